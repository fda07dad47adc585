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

/** What axe finds on a page: serious and critical issues apart from the rest, each with where. */
export async function axe(page: Page): Promise<{ serious: string[]; other: string[] }> {
  // Evaluated, not added as a <script>: the app's CSP (script-src 'self') refuses inline scripts,
  // which is what page.addScriptTag inserts.
  await page.evaluate(axeSource);
  const violations = await page.evaluate<{ id: string; impact: string; targets: string[] }[]>(
    `axe.run().then((r) => r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      targets: v.nodes.map((n) => n.target.join(' ')),
    })))`,
  );
  const text = (v: { id: string; impact: string; targets: string[] }) =>
    `${v.id} [${v.impact}] at ${v.targets.join(', ')}`;
  const serious = (v: { impact: string }) => ['serious', 'critical'].includes(v.impact);
  return {
    serious: violations.filter(serious).map(text),
    other: violations.filter((v) => !serious(v)).map(text),
  };
}
