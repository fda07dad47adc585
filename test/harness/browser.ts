import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

// What browser tests read off a board page. Launching the browser is local/chromium.ts.

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
