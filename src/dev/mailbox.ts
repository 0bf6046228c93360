/** A real SMTP server in the test process; every mail is parsed and kept for the test to await. */
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { Arrivals } from './arrivals.js';

export interface ReceivedMail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
}

export class TestMailbox {
  private readonly arrivals = new Arrivals<ReceivedMail>();
  /** Every RCPT TO the server was given, accepted or not: what the registrar tried to reach. */
  readonly recipients: string[] = [];
  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(port = 0): Promise<TestMailbox> {
    let box: TestMailbox | undefined;
    const server = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo(address, _session, callback) {
        box?.recipients.push(address.address);
        callback();
      },
      onData(stream, _session, callback) {
        simpleParser(stream)
          .then((parsed) => {
            const to = [parsed.to ?? []].flat().flatMap((a) => a.value.map((v) => v.address ?? ''));
            box?.arrivals.add({
              to,
              from: parsed.from?.text ?? '',
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
            });
            callback();
          })
          .catch(callback);
      },
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const address = server.server.address();
    if (!address || typeof address === 'string') throw new Error('SMTP server has no port');
    box = new TestMailbox(server, address.port);
    return box;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  get mails(): readonly ReceivedMail[] {
    return this.arrivals.all;
  }

  mailsTo(address: string): ReceivedMail[] {
    return this.mails.filter((m) => m.to.includes(address));
  }

  /** Resolves with the `nth` (1-based) mail to `address`, waiting for it to arrive. */
  nextMail(address: string, nth = 1, timeoutMs = 30_000): Promise<ReceivedMail> {
    return this.arrivals.waitFor(
      (mails) => mails.filter((m) => m.to.includes(address))[nth - 1],
      `mail #${nth} to ${address}`,
      timeoutMs,
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The challenge link in a mail's text. */
export function linkIn(mail: ReceivedMail): string {
  const match = mail.text.match(/https?:\/\/\S+\/confirm\/\S+/);
  if (!match) throw new Error('no challenge link in the mail');
  return match[0];
}
