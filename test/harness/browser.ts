import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, chromium, type LaunchOptions, type Page } from 'playwright-core';

/** The system Chromium: `CHROMIUM_PATH`, else Debian's. Tests never download a browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  // Root in a container has no user namespace sandbox to offer.
  '--no-sandbox',
  '--disable-gpu',
  // No network of its own: nothing but the pages under test, and no waiting on update servers.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launches headless Chromium with playwright-core; close it in `afterAll`. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}. Install it (\`apt-get install -y chromium\` on Debian) or set CHROMIUM_PATH to a Chromium or Chrome binary.`,
    );
  }
  return chromium.launch({
    headless: true,
    ...options,
    executablePath: CHROMIUM_PATH,
    args: [...FLAGS, ...(options.args ?? [])],
  });
}

/** The player ids of the rows on a board page, top to bottom. */
export function rowIds(page: Page): Promise<string[]> {
  return page
    .getByTestId('player-row')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-player-id') ?? ''));
}

/** The score a board page shows for one player. */
export function scoreOf(page: Page, playerId: string): Promise<string | null> {
  return page.locator(`[data-player-id="${playerId}"] [data-testid="score"]`).textContent();
}

/**
 * axe-core's source, to run in a page with `page.evaluate(axeSource)` (not `addScriptTag`, whose
 * inline script the app's CSP refuses).
 */
export const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);
