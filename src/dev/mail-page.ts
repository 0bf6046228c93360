/**
 * The dev mode's mail catcher page: every mail the registrar sent, newest first, and every chat
 * message its Matrix and Discord bots sent to the stand-in services, readable in a browser (`/`) and
 * as JSON (`/mails.json`, `/chat.json`). Only for `npm run dev`; it listens on loopback.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { escapeHtml } from '../support/html.js';
import type { TestMailbox } from './mailbox.js';
import type { ChatMessage } from './stand-ins/services.js';

export async function serveMailPage(
  mailbox: TestMailbox,
  port: number,
  chat: () => ChatMessage[] = () => [],
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const mails = [...mailbox.mails].reverse();
    const messages = chat().reverse();
    if (request.url === '/mails.json' || request.url === '/chat.json') {
      const body = request.url === '/mails.json' ? mails : messages;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    const linkified = (text: string) =>
      escapeHtml(text).replace(/(https?:\/\/[^\s<]+)/g, (url) => `<a href="${url}">${url}</a>`);
    const items = mails
      .map(
        (mail) => `<article><h2>${escapeHtml(mail.subject)}</h2>
<p><b>To:</b> ${escapeHtml(mail.to.join(', '))} <b>From:</b> ${escapeHtml(mail.from)}</p>
<pre>${linkified(mail.text)}</pre></article>`,
      )
      .join('\n');
    const chats = messages
      .map(
        (message) => `<article><h3>${message.service} message to ${escapeHtml(message.to)}</h3>
<pre>${linkified(message.text)}</pre></article>`,
      )
      .join('\n');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dev mail catcher</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;overflow-wrap:anywhere}pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f4f4f4;padding:1rem}article{border-bottom:1px solid #ccc}</style>
</head><body><h1>Mail sent by the registrar (${mails.length})</h1>
<p>Reload to see new mail and messages.</p>
${items || '<p>No mail yet. Request a judgement: <code>npm run registrar -- dev request --display Alice --email alice@example.org</code></p>'}
<h2>Chat messages sent by the registrar's bots (${messages.length})</h2>
<p>What the Matrix and Discord bots sent through the dev stand-ins of those services.</p>
${chats || '<p>No chat messages yet. Request a judgement with <code>--matrix @alice:localhost</code> or <code>--discord alice</code>.</p>'}
</body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
