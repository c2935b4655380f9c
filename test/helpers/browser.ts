import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { tempDir } from './service.js';

/**
 * Debian's chromium, headless, driven by playwright-core. The flags keep it off the
 * network (this machine's is closed) and out of any profile.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Screenshots go where HIKYAKU_SCREENSHOTS says (docs/screenshots for the README), or to a temp dir.
const SHOTS = process.env.HIKYAKU_SCREENSHOTS ?? join(tempDir('hikyaku-shots-'), 'shots');

/** Saves what the page shows, for a person to look at. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Errors the page threw or logged: a page that works has none. Refusals with a 4xx (the first
 * session check's 401, a forbidden change) are answers the page shows; a 5xx is an error.
 */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return errors;
}
