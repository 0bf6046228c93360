/** A real SMTP server in the test process; every mail is parsed and kept for the test to await. */
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
}

export class TestMailbox {
  readonly mails: ReceivedMail[] = [];
  private waiters = new Set<() => void>();
  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(): Promise<TestMailbox> {
    let box: TestMailbox | undefined;
    const server = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, _session, callback) {
        simpleParser(stream)
          .then((parsed) => {
            const to = [parsed.to ?? []].flat().flatMap((a) => a.value.map((v) => v.address ?? ''));
            box?.receive({
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
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.server.address();
    if (!address || typeof address === 'string') throw new Error('SMTP server has no port');
    box = new TestMailbox(server, address.port);
    return box;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  mailsTo(address: string): ReceivedMail[] {
    return this.mails.filter((m) => m.to.includes(address));
  }

  /** Resolves with the `nth` (1-based) mail to `address`, waiting for it to arrive. */
  nextMail(address: string, nth = 1, timeoutMs = 30_000): Promise<ReceivedMail> {
    const find = () => this.mailsTo(address)[nth - 1];
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const mail = find();
        if (!mail) return;
        cleanup();
        resolve(mail);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no mail #${nth} to ${address} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private receive(mail: ReceivedMail): void {
    this.mails.push(mail);
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** The challenge link in a mail's text. */
export function linkIn(mail: ReceivedMail): string {
  const match = mail.text.match(/https?:\/\/\S+\/confirm\/\S+/);
  if (!match) throw new Error('no challenge link in the mail');
  return match[0];
}
