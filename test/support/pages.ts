/**
 * Pages in a real browser (Debian's Chromium driven by playwright-core), at a desktop width and at
 * 390 px (a phone): whether anything scrolls sideways, what the header says, what axe-core finds
 * serious, and a screenshot of each in test-results/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from '@jest/globals';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const CHROMIUM = process.env.REGISTRAR_TEST_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = 'test-results';
export const WIDTHS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } } as const;

export interface Checked {
  status: number | undefined;
  header: string;
  sideways: { scrollWidth: number; innerWidth: number };
  axe: string[];
}

/** A browser and the accessibility scanner it injects into pages. */
export interface Viewer {
  browser: Browser;
  axe: string;
  checkAtEachWidth(
    name: string,
    open: (page: Page) => Promise<number | undefined>,
  ): Promise<Record<keyof typeof WIDTHS, Checked>>;
  checkHere(page: Page, name: string): Promise<Record<keyof typeof WIDTHS, Omit<Checked, 'status'>>>;
  close(): Promise<void>;
}

export async function openViewer(): Promise<Viewer> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const axe = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  mkdirSync(SCREENSHOTS, { recursive: true });

  /** The page as it is now, at each width (the same page laid out again, not loaded again). */
  const checkHere = async (page: Page, name: string) => {
    const result = {} as Record<keyof typeof WIDTHS, Omit<Checked, 'status'>>;
    for (const [width, viewport] of Object.entries(WIDTHS) as [
      keyof typeof WIDTHS,
      { width: number; height: number },
    ][]) {
      await page.setViewportSize(viewport);
      const sideways = (await page.evaluate(
        '({ scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth })',
      )) as Checked['sideways'];
      const header = (await page.locator('header').count()) ? await page.locator('header').innerText() : '';
      await page.screenshot({
        path: `${SCREENSHOTS}/${name}-${width === 'phone' ? '390' : 'desktop'}.png`,
        fullPage: true,
      });
      const found = (await page.evaluate(
        `typeof axe === 'undefined' ? { violations: [] } : axe.run(document, { resultTypes: ['violations'] })`,
      )) as { violations: { id: string; impact: string | null }[] };
      result[width] = {
        header,
        sideways,
        axe: found.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => v.id),
      };
    }
    return result;
  };

  return {
    browser,
    axe,
    checkHere,
    /**
     * Opens `url` (or runs `open`) once and looks at the page at each width, with a screenshot
     * named `name-desktop` / `name-390`.
     */
    async checkAtEachWidth(name, open) {
      // The scanner is injected as an inline script, which the pages' own CSP rightly refuses.
      const context: BrowserContext = await browser.newContext({ viewport: WIDTHS.desktop, bypassCSP: true });
      const page = await context.newPage();
      const status = await open(page);
      await page.addScriptTag({ content: axe });
      const result = await checkHere(page, name);
      await context.close();
      return { desktop: { status, ...result.desktop }, phone: { status, ...result.phone } };
    },
    close: () => browser.close(),
  };
}

export const visit = (url: string) => async (page: Page) => (await page.goto(url))?.status();

/** Nothing wider than the window, nothing serious for axe, at every width. */
export function expectFits(name: string, checked: Record<string, Omit<Checked, 'status'>>): void {
  for (const [width, c] of Object.entries(checked)) {
    expect({ page: name, width, fits: c.sideways.scrollWidth <= c.sideways.innerWidth, axe: c.axe }).toEqual({
      page: name,
      width,
      fits: true,
      axe: [],
    });
  }
}
