/** The email channel: the challenge link in a plain-text and HTML mail, sent over SMTP. */
import nodemailer, { type Transporter } from 'nodemailer';
import type { ChannelMeans } from '../domain/answers.js';
import { type GraceNotice, graceNoticeText } from '../domain/grace-notice.js';
import { contactLine, registrarName } from '../domain/operator.js';
import { escapeHtml } from '../support/html.js';
import type { ChallengeMessage, Channel } from './channel.js';

export interface EmailSettings {
  smtpUrl: string;
  from: string;
  publicUrl: string;
  /** Bounds every SMTP step: connecting, the greeting, any silence on the socket. */
  timeoutMs?: number;
}

export class EmailChannel implements Channel {
  readonly field = 'email' as const;
  readonly means: readonly ChannelMeans[] = ['message'];
  private readonly transport: Transporter;

  constructor(private readonly settings: EmailSettings) {
    const timeout = settings.timeoutMs ?? 30_000;
    this.transport = nodemailer.createTransport({
      url: settings.smtpUrl,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  }

  async send(message: ChallengeMessage): Promise<void> {
    const expires = new Date(message.expiresAt).toUTCString();
    const who = registrarName(message.operator);
    const contact = contactLine(message.operator);
    // The form's link names the account and field: only the code is left to type.
    const codeForm = `${this.settings.publicUrl}/code?${new URLSearchParams({ account: message.account, field: 'email' })}`;
    const text = [
      `Hello,`,
      '',
      `The Polkadot/Kusama account ${message.account} set this email address in its on-chain identity`,
      `and asked ${who} (${this.settings.publicUrl}) to verify it.`,
      '',
      'To confirm that this address belongs to that identity, open this link and press Confirm:',
      message.link,
      '',
      `Or enter the code ${message.code} at ${codeForm}`,
      '',
      `The link and the code work once and until ${expires}.`,
      '',
      'If you did not ask for this, ignore this mail: nothing is confirmed unless the button is pressed.',
      ...(contact ? ['', contact] : []),
    ].join('\n');
    const html = `<p>Hello,</p>
<p>The Polkadot/Kusama account <code>${escapeHtml(message.account)}</code> set this email address in its on-chain
identity and asked ${escapeHtml(who)} (${escapeHtml(this.settings.publicUrl)}) to verify it.</p>
<p>To confirm that this address belongs to that identity, open this link and press <b>Confirm</b>:<br>
<a href="${escapeHtml(message.link)}">${escapeHtml(message.link)}</a></p>
<p>Or enter the code <b>${escapeHtml(message.code)}</b> at <a href="${escapeHtml(codeForm)}">${escapeHtml(this.settings.publicUrl)}/code</a>.</p>
<p>The link and the code work once and until ${escapeHtml(expires)}.</p>
<p>If you did not ask for this, ignore this mail: nothing is confirmed unless the button is pressed.</p>${contact ? `\n<p>${escapeHtml(contact)}</p>` : ''}`;
    await this.mail(message.subject, `Confirm your email for your on-chain identity (${who})`, text, html);
  }

  async notify(notice: GraceNotice): Promise<void> {
    const { title, text } = graceNoticeText(notice);
    const html = text
      .split('\n\n')
      .map((paragraph) => `<p>${escapeHtml(paragraph).replaceAll('\n', '<br>\n')}</p>`)
      .join('\n');
    await this.mail(notice.subject, title, text, html);
  }

  private async mail(to: string, subject: string, text: string, html: string): Promise<void> {
    try {
      await this.transport.sendMail({
        from: this.settings.from,
        // An address object is used as it is; a string would be parsed for names, groups and lists.
        to: { name: '', address: to },
        subject,
        text,
        html,
      });
    } catch (error) {
      // SMTP errors may quote the recipient; say only what failed.
      const code =
        (error as { code?: string; responseCode?: number }).responseCode ?? (error as { code?: string }).code;
      throw new Error(`email could not be sent (SMTP ${code ?? 'error'})`);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
