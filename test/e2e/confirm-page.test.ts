/**
 * The pages in a real browser (Debian's Chromium driven by playwright-core): opening a challenge
 * link shows who asks for what and changes nothing; the Confirm button confirms, under the page's
 * own Content-Security-Policy; the status page follows live, without a reload, until the judgement;
 * and an accessibility scan (axe-core) finds nothing serious on any page.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Browser, chromium } from 'playwright-core';
import { DaemonHarness, FEE } from '../support/harness.js';
import { linkIn } from '../support/smtp.js';

const CHROMIUM = process.env.REGISTRAR_TEST_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = 'test-results';

let h: DaemonHarness;
let browser: Browser;

beforeAll(async () => {
  h = await DaemonHarness.start(1 | 16);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('the confirm page in a browser', () => {
  it('shows the request, confirms on the button, and refuses the link afterwards', async () => {
    const person = await h.newPerson({ display: 'Browser Person', email: 'browser@example.org' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const link = linkIn(await h.mailbox.nextMail('browser@example.org'));

    const page = await browser.newPage();
    // What the page's Content-Security-Policy blocked would break it in people's browsers.
    const violations: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) {
        violations.push(message.text());
      }
    });
    const response = await page.goto(link);
    expect(response?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('Confirm your identity field');
    const text = await page.locator('body').innerText();
    expect(text).toContain(person.address);
    expect(text).toContain('email address browser@example.org');
    await page.screenshot({ path: `${SCREENSHOTS}/confirm-page.png` });
    expect((await h.statusOf(person.address)).fields.email?.status).toBe('awaiting');

    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForSelector('h1:has-text("Confirmed")');
    expect(await page.locator('body').innerText()).toContain('Your email address is confirmed');
    await page.screenshot({ path: `${SCREENSHOTS}/confirmed-page.png` });
    expect(violations).toEqual([]);

    await h.chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === person.address);
    await page.goto(link);
    expect(await page.locator('.error').innerText()).toContain('already used');
    await page.close();
  });

  it('updates the status page live as a field is confirmed and the judgement lands', async () => {
    const person = await h.newPerson({ display: 'Live Person', email: 'live@example.org' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const link = linkIn(await h.mailbox.nextMail('live@example.org'));

    const status = await browser.newPage();
    const violations: string[] = [];
    status.on('console', (message) => {
      if (message.type() === 'error') violations.push(message.text());
    });
    await status.goto(`${h.url}/status/${person.address}`);
    await expect(status.title()).resolves.toBe('Judgement request status');
    expect(await status.locator('tr[data-field="email"]').innerText()).toContain('Waiting for you');

    const confirmTab = await browser.newPage();
    await confirmTab.goto(link);
    await confirmTab.getByRole('button', { name: 'Confirm' }).click();
    await confirmTab.waitForSelector('h1:has-text("Confirmed")');
    expect(await confirmTab.locator('main').innerText()).toContain('Every field is proven');

    // No reload: the events replace the status section.
    await status.locator('#request-state', { hasText: 'Judged' }).waitFor({ timeout: 60_000 });
    expect(await status.locator('tr[data-field="email"]').innerText()).toContain('Proven');
    await status.screenshot({ path: `${SCREENSHOTS}/status-page-judged.png` });
    expect(violations).toEqual([]);
    await status.close();
    await confirmTab.close();
  });

  it('has no serious accessibility violations on any page (axe-core)', async () => {
    const person = await h.newPerson({ display: 'Axe Person', email: 'axe@example.org' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const link = linkIn(await h.mailbox.nextMail('axe@example.org'));
    const axe = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    // The scanner is injected as an inline script, which the pages' own CSP rightly refuses.
    const context = await browser.newContext({ bypassCSP: true });
    const pages = {
      start: `${h.url}/`,
      status: `${h.url}/status/${person.address}`,
      confirm: link,
      refused: `${link}x`,
      code: `${h.url}/code`,
    };
    const found: Record<string, string[]> = {};
    for (const [name, url] of Object.entries(pages)) {
      const page = await context.newPage();
      await page.goto(url);
      await page.addScriptTag({ content: axe });
      const result = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] })`)) as {
        violations: { id: string; impact: string | null }[];
      };
      found[name] = result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => v.id);
      await page.close();
    }
    await context.close();
    expect(found).toEqual({ start: [], status: [], confirm: [], refused: [], code: [] });
  });
});
