/**
 * The page behind a challenge link, in a real browser (Debian's Chromium driven by playwright-core):
 * opening the link shows who asks for what and changes nothing; the Confirm button confirms, under
 * the page's own Content-Security-Policy; the judgement follows.
 */
import { mkdirSync } from 'node:fs';
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
});
