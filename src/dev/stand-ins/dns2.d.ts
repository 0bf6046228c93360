/** The part of dns2 (no types of its own) the local DNS server uses. */
declare module 'dns2' {
  interface Question {
    name: string;
    type: number;
  }
  interface Answer {
    name: string;
    type: number;
    class: number;
    ttl: number;
    address?: string;
    data?: string | string[];
  }
  interface DnsPacket {
    questions: Question[];
    answers: Answer[];
    header: { rcode: number };
  }
  interface DnsServer {
    listen(options: {
      udp: { port: number; address: string; type: 'udp4' };
    }): Promise<{ udp: { port: number } }>;
    close(): Promise<void>;
  }
  const dns2: {
    Packet: {
      TYPE: { A: number; AAAA: number; TXT: number };
      CLASS: { IN: number };
      createResponseFromRequest(request: DnsPacket): DnsPacket;
    };
    createServer(options: {
      udp: boolean;
      handle: (request: DnsPacket, send: (response: DnsPacket) => void) => void;
    }): DnsServer;
  };
  export default dns2;
}
