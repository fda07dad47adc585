import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RankedPlayer } from '../contract/board.ts';
import { launchChromium } from '../local/chromium.ts';
import { type Client, createClient } from '../local/client.ts';
import { ROOT_DIR } from '../local/origin.ts';
import { axeSource, rowIds, scoreOf } from './harness/browser.ts';
import { type Stack, startTestStack } from './harness/stack.ts';

// The built web app in real Chromium, served by the origin and live through a real Pushpin, with
// the production CSP. Pages are separate browser contexts: separate browsers, as far as the
// origin and localStorage can tell.

const XSS_NAME = '<img src=x onerror=alert(1)>';
// Other heavy work may share the machine: polls wait long (vitest's default is one second).
const patient = { timeout: 30_000, interval: 100 };

interface Watched {
  page: Page;
  /** Uncaught errors, CSP violations, and dialogs (an XSS would open one). */
  problems: string[];
}

let stack: Stack;
let browser: Browser;
let api: Client;
const opened: Watched[] = [];

beforeAll(async () => {
  if (!existsSync(join(ROOT_DIR, 'dist/web/index.html'))) {
    throw new Error('the web app is not built: run `npm run build:web` before this test');
  }
  // One client address (127.0.0.1) does all the voting: a small bucket makes 429 reachable.
  stack = await startTestStack({
    origin: { env: { SCORE_RATE_PER_SECOND: '2', SCORE_BURST: '8' } },
  });
  browser = await launchChromium();
  api = createClient(stack.urls.pushpin, stack.adminToken);
});

afterEach(async () => {
  for (const { page } of opened.splice(0)) await page.context().close();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function openPage(path: string, options: BrowserContextOptions = {}): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  const watched: Watched = { page, problems: [] };
  opened.push(watched);
  // Page scripts are strings: this project's Node tsconfig has no DOM types.
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) => {
      console.error('CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI);
    });`,
  });
  page.on('pageerror', (error) => watched.problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    watched.problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    if (message.text().startsWith('CSP violation')) watched.problems.push(message.text());
  });
  await page.goto(new URL(path, stack.urls.pushpin).href);
  return watched;
}

async function openBoard(boardId: string, options: BrowserContextOptions = {}): Promise<Watched> {
  const watched = await openPage(`b/${boardId}`, options);
  await watched.page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  await watched.page.getByTestId('player-row').first().waitFor();
  return watched;
}

/** Gives every player on the board the same new score, `last` last: it ranks last among them. */
async function tieEveryone(boardId: string, last: RankedPlayer): Promise<number> {
  const board = await api.getBoard(boardId);
  const score = Math.max(...board.players.map((p) => p.score)) + 10;
  for (const player of board.players) {
    if (player.id !== last.id) await api.updatePlayer(boardId, player.id, { score });
  }
  await api.updatePlayer(boardId, last.id, { score });
  return score;
}

describe('the web app, live through Pushpin', () => {
  it('shows a +1 clicked in one browser, with the new score and order, in another', async () => {
    const demo = await api.getBoard('demo');
    const target = demo.players[0];
    if (target === undefined) throw new Error('the demo board has no players');
    const score = await tieEveryone('demo', target);

    const viewer = await openBoard('demo', { colorScheme: 'dark' });
    const voter = await openBoard('demo');
    for (const { page } of [viewer, voter]) {
      await expect.poll(() => rowIds(page), patient).toHaveLength(demo.players.length);
      await expect.poll(() => rowIds(page).then((ids) => ids.at(-1)), patient).toBe(target.id);
      await expect.poll(() => scoreOf(page, target.id), patient).toBe(String(score));
    }

    // By keyboard: the +1 is a real button with a name that says whom it is for.
    const button = voter.page.getByRole('button', { name: `+1 for ${target.name}` });
    expect(await button.getAttribute('data-testid')).toBe('plus-one');
    await button.focus();
    await voter.page.keyboard.press('Enter');

    for (const { page } of [viewer, voter]) {
      await expect.poll(() => scoreOf(page, target.id), patient).toBe(String(score + 1));
      await expect.poll(() => rowIds(page).then((ids) => ids[0]), patient).toBe(target.id);
      const row = page.locator(`[data-player-id="${target.id}"]`);
      expect(await row.getAttribute('data-rank')).toBe('1');
    }
    expect((await api.getPlayer('demo', target.id)).score).toBe(score + 1);
    // The voter's browser remembers its pick; the viewer's does not.
    expect(await voter.page.locator(`[data-player-id="${target.id}"] .pick-tag`).count()).toBe(1);
    expect(await viewer.page.locator('.pick-tag').count()).toBe(0);
    expect([...viewer.problems, ...voter.problems]).toEqual([]);
  });

  it('renders a hostile player name as text, under the production CSP', async () => {
    const board = await api.createBoard('Hostile names');
    const player = await api.addPlayer(board.id, XSS_NAME);
    const page = await openBoard(board.id);

    const row = page.page.locator(`[data-player-id="${player.id}"]`);
    expect(await row.locator('.name-text').textContent()).toBe(XSS_NAME);
    expect(await page.page.locator('main img').count()).toBe(0);
    await page.page.getByRole('button', { name: `+1 for ${XSS_NAME}` }).click();
    await expect.poll(() => scoreOf(page.page, player.id), patient).toBe('1');
    const csp = (await page.page.request.get(page.page.url())).headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(page.problems).toEqual([]);
  });

  it('lists the boards with their player counts and links to each', async () => {
    const board = await api.createBoard('Listed board');
    await api.addPlayer(board.id, 'Solo');
    const { page, problems } = await openPage('');
    const link = page.getByRole('link', { name: /Listed board/ });
    await link.waitFor();
    expect(await link.textContent()).toContain('1 player');
    await link.click();
    await page.waitForURL(`**/b/${board.id}`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    expect(await rowIds(page)).toHaveLength(1);
    expect(problems).toEqual([]);
  });

  it('draws the top 100 of a large board and a window around this browser’s pick', async () => {
    const board = await api.createBoard('Large board');
    const players: RankedPlayer[] = [];
    for (let i = 0; i < 400; i += 50) {
      const batch = Array.from({ length: 50 }, (_, j) => api.addPlayer(board.id, `P${i + j}`));
      players.push(...(await Promise.all(batch)));
    }
    // 150 players well ahead, so the pick's +1 still leaves it far below the top 100.
    const ahead = players.slice(0, 150);
    for (let i = 0; i < ahead.length; i += 25) {
      await Promise.all(
        ahead.slice(i, i + 25).map((p) => api.updatePlayer(board.id, p.id, { score: 5 })),
      );
    }
    const far = players[300];
    if (far === undefined) throw new Error('the large board has fewer players than it should');

    const { page, problems } = await openBoard(board.id);
    await expect.poll(() => rowIds(page), patient).toHaveLength(100);
    await page.getByLabel('Find a player').fill(far.name);
    await page.getByRole('button', { name: `+1 for ${far.name}`, exact: true }).click();
    await expect.poll(() => scoreOf(page, far.id), patient).toBe('1');
    await page.getByLabel('Find a player').fill('');

    for (const when of ['after the vote', 'after a reload']) {
      await expect.poll(() => rowIds(page), { ...patient, message: when }).toHaveLength(100 + 11);
      expect((await rowIds(page)).slice(100), when).toContain(far.id);
      const row = page.locator(`[data-player-id="${far.id}"]`);
      expect(await row.getAttribute('data-rank')).toBe('151');
      expect(await page.locator('.gap').allTextContents()).toEqual([
        expect.stringMatching(/ in between$/),
        expect.stringMatching(/ more$/),
      ]);
      await page.reload();
      await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    }
    expect(problems).toEqual([]);
  });

  it('says reconnecting when Pushpin goes away, and is live with fresh scores when it is back', async () => {
    const demo = await api.getBoard('demo');
    const target = demo.players.at(-1);
    if (target === undefined) throw new Error('the demo board has no players');
    const { page, problems } = await openBoard('demo');
    const connection = page.getByTestId('connection');

    // Polled from the test, not with waitForFunction: a string predicate would be evaluated in the
    // page, which our CSP (no 'unsafe-eval') refuses. Started before the restart so the short
    // reconnecting state cannot slip by.
    const dropped = expect
      .poll(() => connection.getAttribute('data-state'), { timeout: 20_000, interval: 20 })
      .not.toBe('live');
    await stack.restartPushpin();
    await dropped;
    // The reconnect happens on the browser's own schedule (the stream says `retry: 2000`).
    await expect
      .poll(() => connection.getAttribute('data-state'), { timeout: 20_000 })
      .toBe('live');
    const updated = await api.updatePlayer('demo', target.id, { score: target.score + 50 });
    await expect.poll(() => scoreOf(page, target.id), patient).toBe(String(updated.score));
    expect(problems).toEqual([]);
  });

  it('passes axe in light and dark, on the list and on a board', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const path of ['', 'b/demo']) {
        const { page } = await openPage(path, { colorScheme });
        await page
          .locator(path === '' ? '[data-testid="board-link"]' : '[data-testid="player-row"]')
          .first()
          .waitFor();
        await page.evaluate(axeSource);
        const violations = await page.evaluate<string[]>(
          "axe.run().then((r) => r.violations.map((v) => v.id + ' (' + v.nodes.length + ')'))",
        );
        expect({ colorScheme, path, violations }).toEqual({ colorScheme, path, violations: [] });
      }
    }
  });

  it('asks politely to slow down when the origin answers 429', async () => {
    const demo = await api.getBoard('demo');
    const target = demo.players[0];
    if (target === undefined) throw new Error('the demo board has no players');
    const { page, problems } = await openBoard('demo');
    // Empty this address's bucket, then vote: the +1 comes back 429 with Retry-After.
    await Promise.allSettled(Array.from({ length: 12 }, () => api.scoreAdd('demo', target.id)));
    await page.getByRole('button', { name: `+1 for ${target.name}` }).click();
    const toast = page.locator('.toast');
    await toast.waitFor();
    expect(await toast.textContent()).toMatch(/Try again in \d+ s/);
    expect(await page.getByTestId('plus-one').first().getAttribute('aria-disabled')).toBe('true');
    // The pause ends by itself.
    await expect
      .poll(() => page.getByTestId('plus-one').first().getAttribute('aria-disabled'), {
        timeout: 10_000,
      })
      .toBeNull();
    expect(problems).toEqual([]);
  });
});
