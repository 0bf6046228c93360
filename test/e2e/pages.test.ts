/**
 * Every page a person meets, in a real browser (Debian's Chromium driven by playwright-core), at a
 * desktop width and at 390 px (a phone): nothing scrolls sideways, the header says who runs the
 * registrar the same way on every page, axe-core finds nothing serious, and a screenshot of each is
 * left in test-results/. Along the way: the mail names the operator and carries the code, which the
 * code form (linked from the mail, the account and field filled in) takes; a wrong code keeps the
 * account; a used link's refusal leads to the account's status page; the status page gives each
 * field's next step and the last refused try; "Send new links" says what it does and redirects; the
 * start page's "Prove my fields now" leads to a prepared request's page with the call to send.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { Page } from 'playwright-core';
import { serveMailPage } from '../../src/dev/mail-page.js';
import { DaemonHarness, eventually, FEE } from '../support/harness.js';
import { expectFits, openViewer, type Viewer, visit } from '../support/pages.js';
import { linkIn } from '../support/smtp.js';

const OPERATOR = 'Wrapping Test Registrar Cooperative';
const CONTACT = 'identity-questions@registrar-operator.example';
const CHAIN = 'Paseo People (test)';
/** At most 32 bytes, as a Raw identity field holds, and without a place to break but its dots and @. */
const EMAIL = 'first.middle.lastname@longer.org';
const WEB = 'registrar-wrapping-test.example';
const PGP = `0x${'a1b2c3d4e5'.repeat(4)}`;

let h: DaemonHarness;
let viewer: Viewer;
let mailPage: { url: string; close: () => Promise<void> };
let person: KeyringPair;

beforeAll(async () => {
  // display | web | email | pgpFingerprint; under `set`, the fields a person sets are the ones proven.
  h = await DaemonHarness.start(1 | 4 | 16 | 32, {
    REGISTRAR_POLICY: 'set',
    REGISTRAR_OPERATOR_NAME: OPERATOR,
    REGISTRAR_OPERATOR_CONTACT: CONTACT,
    REGISTRAR_CHAIN_NAME: CHAIN,
    REGISTRAR_RETENTION_DAYS: '30',
  });
  mailPage = await serveMailPage(h.mailbox, 0);
  viewer = await openViewer();
  person = h.chain.account('//WrappingPerson');
  await h.chain.fund(person.address);
  await h.chain.setIdentityInfo(person, {
    display: { Raw: 'Wrapping Person' },
    email: { Raw: EMAIL },
    web: { Raw: WEB },
    pgpFingerprint: PGP,
  });
  await h.chain.requestJudgement(person, h.index, 2n * FEE);
}, 240_000);

afterAll(async () => {
  await viewer?.close();
  await mailPage?.close();
  await h?.close();
});

describe('every page, at a desktop width and at 390 px', () => {
  it('fits the screen, says who runs the registrar the same way everywhere, and leads on', async () => {
    const mail = await h.mailbox.nextMail(EMAIL);
    // The mail says who asks and whom to ask, and carries the code beside the link.
    expect(mail.subject).toContain(`${OPERATOR}, registrar #${h.index} on ${CHAIN}`);
    expect(mail.text).toContain(`Questions: ${CONTACT}`);
    const code = /Or enter the code ([0-9A-Z]+) at (\S+)/.exec(mail.text);
    expect(code).not.toBeNull();
    const codeForm = code?.[2] ?? '';
    expect(codeForm).toBe(`${h.url}/code?account=${person.address}&field=email`);
    const link = linkIn(mail);
    const status = `${h.url}/status/${person.address}`;

    const headers = new Map<string, string>();
    const pages: [string, (page: Page) => Promise<number | undefined>][] = [
      ['start', visit(`${h.url}/`)],
      ['about', visit(`${h.url}/about`)],
      ['status-open', visit(status)],
      ['confirm', visit(link)],
      ['prove-web', visit(`${h.url}/prove/${person.address}/web`)],
      ['prove-pgp', visit(`${h.url}/prove/${person.address}/pgpFingerprint`)],
      ['not-an-account', visit(`${h.url}/status/not-an-account`)],
      ['code', visit(codeForm)],
      [
        'code-wrong',
        async (page) => {
          await page.goto(codeForm);
          await page.fill('#code', 'WRONG0000');
          const [response] = await Promise.all([
            page.waitForNavigation(),
            page.getByRole('button', { name: 'Confirm' }).click(),
          ]);
          return response?.status();
        },
      ],
      [
        'resent',
        async (page) => {
          await page.goto(status);
          const [response] = await Promise.all([
            page.waitForNavigation(),
            page.getByRole('button', { name: 'Send new links' }).click(),
          ]);
          return response?.status();
        },
      ],
      ['mail-catcher', visit(mailPage.url)],
    ];
    for (const [name, open] of pages) {
      const checked = await viewer.checkAtEachWidth(name, open);
      expectFits(name, checked);
      if (name !== 'mail-catcher') headers.set(name, checked.desktop.header.replace(/\n+/g, '\n'));
    }
    // One header, the same on every page: the operator, the registrar on its chain, the contact.
    expect(new Set(headers.values())).toEqual(
      new Set([`${OPERATOR}\nRegistrar #${h.index} on ${CHAIN}. Contact: ${CONTACT}`]),
    );

    const page = await (await viewer.browser.newContext({ bypassCSP: true })).newPage();
    // The start page says what the retention setting says.
    await page.goto(`${h.url}/`);
    expect(await page.locator('main').innerText()).toContain('are deleted 30 days after it closes');
    // The status page: each field's next step, the email's value whole, and what Send new links does.
    await page.goto(status);
    const web = await page.locator('tr[data-field="web"]').innerText();
    expect(web).toContain('Open "Prove your website", publish the line it shows');
    expect(await page.locator('tr[data-field="email"]').innerText()).toContain(EMAIL);
    expect(await page.locator('main').innerText()).toContain(
      'This sends a new link and code to your email address, for each whose earlier link no longer works',
    );
    // Send new links with every link still working: it says so, after a redirect, and sends nothing.
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Send new links' }).click(),
    ]);
    expect(page.url()).toBe(`${status}?resent=valid`);
    expect(await page.getByRole('status').innerText()).toBe(
      'Nothing was sent: the links sent earlier still work. Use those.',
    );
    // A refused signature is the PGP field's last try, on the status page with its time.
    await page.goto(`${h.url}/prove/${person.address}/pgpFingerprint`);
    await page.fill('#signed', 'not a signature');
    await page.fill('#key', 'not a key');
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Check the signature' }).click(),
    ]);
    await page.goto(status);
    expect(await page.locator('tr[data-field="pgpFingerprint"]').innerText()).toMatch(
      /Last try refused \(.+ GMT\): [A-Z]/,
    );

    // A wrong code keeps the account and field; the right one, from the mail, confirms the email.
    await page.goto(codeForm);
    await page.fill('#code', 'WRONG0000');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Confirm' }).click()]);
    expect(await page.locator('#account').inputValue()).toBe(person.address);
    expect(await page.locator('#field').inputValue()).toBe('email');
    expect(await page.locator(`a[href="/status/${person.address}"]`).count()).toBe(1);
    await page.fill('#code', code?.[1] ?? '');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Confirm' }).click()]);
    await expect(page.locator('h1').innerText()).resolves.toBe('Confirmed');
    await page.addScriptTag({ content: viewer.axe });
    expectFits('confirmed', await viewer.checkHere(page, 'confirmed'));
    await page.close();

    // The link of a field proven since: refused, with the way to the account's status page.
    const refused = await viewer.checkAtEachWidth('refused-used-link', visit(link));
    expectFits('refused-used-link', refused);
    expect(refused.desktop.status).toBe(410);
    const again = await viewer.browser.newPage();
    await again.goto(link);
    expect(await again.locator('.error').innerText()).toContain('already used');
    expect(await again.locator(`a[href="/status/${person.address}"]`).count()).toBe(1);
    await again.close();
  });

  it('lets a person prove the fields before paying, from the start page, and shows what to send', async () => {
    const early = h.chain.account('//WrappingEarlyBird');
    await h.chain.fund(early.address);
    const email = 'early.bird@longer.org';
    await h.chain.setIdentityInfo(early, { display: { Raw: 'Early Bird' }, email: { Raw: email } });
    const submit = async (page: Page) => {
      await page.goto(`${h.url}/`);
      await page.fill('#prepare-account', early.address);
      const [response] = await Promise.all([
        page.waitForNavigation(),
        page.getByRole('button', { name: 'Prove my fields now' }).click(),
      ]);
      return response?.status();
    };
    const prepared = await viewer.checkAtEachWidth('status-prepared', submit);
    expectFits('status-prepared', prepared);
    expect(prepared.desktop.status).toBe(200);
    await h.mailbox.nextMail(email);
    const page = await (await viewer.browser.newContext({ bypassCSP: true })).newPage();
    // Asked again: the same prepared request's page, nothing sent twice.
    expect(await submit(page)).toBe(200);
    expect(page.url()).toBe(`${h.url}/status/${early.address}`);
    const main = await page.locator('main').innerText();
    expect(main).toContain('Not requested yet: you can prove your fields now');
    expect(main).toContain(`identity.requestJudgement(${h.index}, ${FEE})`);
    // The mail is counted as sent once the mail server took it, a moment after it arrived there.
    const sent = await eventually(async () => {
      await page.reload();
      const row = await page.locator('tr[data-field="email"]').innerText();
      return row.includes('Sent to') ? row : undefined;
    }, 'the email row saying where the mail went');
    expect(sent).toContain('Sent to e***@l***.org');
    await page.addScriptTag({ content: viewer.axe });
    expectFits('status-prepared-sent', await viewer.checkHere(page, 'status-prepared-sent'));
    await page.close();
    expect(h.mailbox.mailsTo(email)).toHaveLength(1);
  });
});
