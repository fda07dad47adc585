import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../local/chromium.ts';
import { type Client, createClient } from '../local/client.ts';
import { ROOT_DIR } from '../local/origin.ts';
import { rowIds } from './harness/browser.ts';
import { type Stack, startTestStack } from './harness/stack.ts';

// Issue 11, item 8: in Chromium a 1,000,000-player board opens with its first rows as fast as a
// small one, and a +1 given in one browser shows in another as fast as on a small board. Speed is
// measured and printed (a table at the end), never asserted: what is asserted is behaviour. The
// first rows shown are the board's real top rows by the JSON API, and every +1 lands in the other
// browser with the right score, on the big board and on a 10-player one alike.

const BIG = 'million';
const BIG_PLAYERS = 1_000_000;
const SMALL = 'ten';
const SMALL_PLAYERS = 10;
const REPETITIONS = 5;

const patient = { timeout: 30_000, interval: 100 };

/** Two in three scores differ from the next one down: ranks tie now and then. */
const scoreAt = (players: number, i: number) => Math.floor(((players - i) * 2) / 3);
const nameAt = (i: number) => `Player ${String(i + 1).padStart(7, '0')}`;

/**
 * Writes the data file the origin starts from, a piece at a time (a 1,000,000-player board is
 * about 80 MB of JSON): the big board, then the small one, players ranked by their index.
 */
async function writeDataFile(file: string): Promise<void> {
  const out = createWriteStream(file);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  const board = async (id: string, name: string, players: number) => {
    await write(
      `${JSON.stringify(id)}:{"id":${JSON.stringify(id)},"name":${JSON.stringify(name)},` +
        `"order":"desc","version":${players},"createdAt":"${new Date(0).toISOString()}","players":[`,
    );
    const piece = 10_000;
    for (let start = 0; start < players; start += piece) {
      const rows: string[] = [];
      for (let i = start; i < Math.min(players, start + piece); i++) {
        rows.push(
          `{"id":"p${i}","name":"${nameAt(i)}","score":${scoreAt(players, i)},"scoredAt":${i + 1}}`,
        );
      }
      await write((start === 0 ? '' : ',') + rows.join(','));
    }
    await write(']}');
  };
  await write('{"boards":{');
  await board(BIG, 'A million players', BIG_PLAYERS);
  await write(',');
  await board(SMALL, 'Ten players', SMALL_PLAYERS);
  await write('}}');
  out.end();
  await once(out, 'finish');
}

interface Summary {
  min: number;
  median: number;
  max: number;
}

function summarise(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] ?? 0)
      : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { min: sorted[0] ?? 0, median, max: sorted.at(-1) ?? 0 };
}

/**
 * Set before the page's own scripts: the time (ms since navigation start) of the first frame
 * after a player row is in the page and visible, and the ids of the rows at that moment.
 */
const FIRST_ROWS_PROBE = `(() => {
  const probe = { at: undefined, ids: [] };
  window.__firstRows = probe;
  const seen = () => {
    const rows = [...document.querySelectorAll('[data-testid="player-row"]')];
    const first = rows[0];
    if (first === undefined || !first.checkVisibility()) return false;
    probe.ids = rows.map((row) => row.getAttribute('data-player-id') ?? '');
    requestAnimationFrame(() => { probe.at = performance.now(); });
    return true;
  };
  const observer = new MutationObserver(() => { if (seen()) observer.disconnect(); });
  observer.observe(document, { childList: true, subtree: true });
})()`;

/**
 * Starts watching, in the page, for the player's row to show `score`; the promise returned by
 * `shown` resolves with the wall-clock time (ms) it did. A MutationObserver, set up before the
 * +1 is given, so the moment is neither missed nor rounded up to a poll's interval.
 */
async function watchScore(
  page: Page,
  playerId: string,
  score: number,
): Promise<{ shown: () => Promise<number> }> {
  await page.evaluate(`(() => {
    const selector = ${JSON.stringify(`[data-player-id="${playerId}"] [data-testid="score"]`)};
    const text = (${score}).toLocaleString();
    const shown = () => document.querySelector(selector)?.textContent === text;
    window.__scoreShown = new Promise((resolve) => {
      if (shown()) {
        resolve(Date.now());
        return;
      }
      const observer = new MutationObserver(() => {
        if (!shown()) return;
        observer.disconnect();
        resolve(Date.now());
      });
      observer.observe(document, { childList: true, subtree: true, characterData: true });
    });
  })()`);
  return { shown: () => page.evaluate<number>('window.__scoreShown') };
}

let dir: string | undefined;
let stack: Stack;
let browser: Browser;
let api: Client;
const contexts: BrowserContext[] = [];
/** Per board, per measure: the samples in ms. */
const measured = new Map<string, { open: number[]; plusOne: number[] }>();
/** A player deep in the big board, the pick of both browsers in the around-the-pick case. */
const DEEP = 500_000;

beforeAll(async () => {
  if (!existsSync(join(ROOT_DIR, 'dist/web/index.html'))) {
    throw new Error('the web app is not built: run `npm run build:web` before this test');
  }
  dir = await mkdtemp(join(tmpdir(), 'ui-scale-'));
  const dataFile = join(dir, 'leaderboard.json');
  const writing = performance.now();
  await writeDataFile(dataFile);
  const starting = performance.now();
  stack = await startTestStack({
    dataFile,
    origin: {
      env: {
        MAX_PLAYERS_PER_BOARD: String(BIG_PLAYERS),
        SCORE_RATE_PER_SECOND: '1000000',
        SCORE_BURST: '1000000',
      },
    },
  });
  console.log(
    `data file written in ${Math.round(starting - writing)} ms, ` +
      `stack started in ${Math.round(performance.now() - starting)} ms`,
  );
  browser = await launchChromium();
  api = createClient(stack.urls.pushpin, stack.adminToken);
}, 180_000);

afterAll(async () => {
  for (const context of contexts.splice(0)) await context.close();
  await browser?.close();
  await stack?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  printTable();
});

/** A page in a context of its own (its own cache and storage: another browser, as far as the app knows). */
async function newPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'en-US',
  });
  context.setDefaultTimeout(60_000);
  contexts.push(context);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { context, page, problems };
}

async function whenLive(page: Page): Promise<void> {
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  await page.getByTestId('player-row').first().waitFor();
}

function printTable(): void {
  const cpu = cpus();
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const lines = [
    `machine: ${cpu[0]?.model ?? 'unknown'} x ${cpu.length}, load average ${load}`,
    `${'board'.padEnd(28)}${'measure'.padEnd(36)}${'n'.padStart(3)}${'min'.padStart(9)}${'median'.padStart(9)}${'max'.padStart(9)}`,
  ];
  const ms = (value: number) => `${Math.round(value)} ms`.padStart(9);
  for (const [board, samples] of measured) {
    for (const [measure, values] of [
      ['navigation to first rows visible', samples.open],
      ['+1 in page A to score in page B', samples.plusOne],
    ] as const) {
      if (values.length === 0) continue;
      const s = summarise(values);
      lines.push(
        `${board.padEnd(28)}${measure.padEnd(36)}${String(values.length).padStart(3)}${ms(s.min)}${ms(s.median)}${ms(s.max)}`,
      );
    }
  }
  console.log(lines.join('\n'));
}

describe.each([
  { boardId: BIG, label: '1,000,000 players', players: BIG_PLAYERS },
  { boardId: SMALL, label: '10 players', players: SMALL_PLAYERS },
])('a board of $label in Chromium', ({ boardId, label, players }) => {
  const samples = { open: [] as number[], plusOne: [] as number[] };
  measured.set(label, samples);

  it("opens with its first rows, the board's real top rows by the JSON API", async () => {
    const board = await api.getBoard(boardId, { limit: 100 });
    expect(board.playerCount).toBe(players);
    const top = board.players.map((p) => p.id);
    expect(top).toHaveLength(Math.min(100, players));

    for (let rep = 0; rep < REPETITIONS; rep++) {
      // A new context each time: nothing cached, as a first visit.
      const { context, page, problems } = await newPage();
      await page.addInitScript({ content: FIRST_ROWS_PROBE });
      await page.goto(new URL(`b/${boardId}`, stack.urls.pushpin).href);
      await page.getByTestId('player-row').first().waitFor({ state: 'visible' });
      const probe = await page
        .waitForFunction(
          `window.__firstRows.at !== undefined && window.__firstRows`,
          undefined,
          patient,
        )
        .then((handle) => handle.jsonValue() as Promise<{ at: number; ids: string[] }>);
      samples.open.push(probe.at);
      expect(probe.ids.length).toBeGreaterThan(0);
      expect(probe.ids).toEqual(top.slice(0, probe.ids.length));
      // And once live, the page holds the whole top 100.
      await whenLive(page);
      await expect.poll(() => rowIds(page), patient).toEqual(top);
      expect(problems).toEqual([]);
      await context.close();
      contexts.splice(contexts.indexOf(context), 1);
    }
  }, 120_000);

  it('shows a +1 given in page A in page B, with the right score', async () => {
    // A player in the top 100: in the middle of it on the big board, any one on the small.
    await plusOnes(boardId, samples.plusOne, (rep) => `p${players > 100 ? 50 + rep * 7 : rep * 2}`);
  }, 120_000);
});

describe('a board of 1,000,000 players, around a pick deep in the board', () => {
  const samples = { open: [] as number[], plusOne: [] as number[] };
  measured.set(`1,000,000, pick at ${(DEEP + 1).toLocaleString('en-US')}`, samples);

  it('shows a +1 for the pick given in page A in page B, which follows the same pick', async () => {
    await plusOnes(BIG, samples.plusOne, () => `p${DEEP}`, `p${DEEP}`);
  }, 120_000);
});

/**
 * Opens the board in two browsers (page A and page B, both following `pick` when given), then
 * REPETITIONS times: +1 in page A for `playerAt(rep)`, the time until page B shows the new score
 * (into `into`), and both pages end on the server's rows.
 */
async function plusOnes(
  boardId: string,
  into: number[],
  playerAt: (rep: number) => string,
  pick?: string,
): Promise<void> {
  const a = await newPage();
  const b = await newPage();
  if (pick !== undefined) {
    // What the app remembers of this browser's last vote: it follows that player wherever it ranks.
    const remember = `localStorage.setItem(${JSON.stringify(`leaderboard:last-vote:${boardId}`)}, ${JSON.stringify(pick)})`;
    await a.page.addInitScript({ content: remember });
    await b.page.addInitScript({ content: remember });
  }
  const url = new URL(`b/${boardId}`, stack.urls.pushpin).href;
  await a.page.goto(url);
  await b.page.goto(url);
  await whenLive(a.page);
  await whenLive(b.page);

  for (let rep = 0; rep < REPETITIONS; rep++) {
    const id = playerAt(rep);
    const before = (await api.getPlayer(boardId, id)).score;
    const button = a.page.locator(`[data-player-id="${id}"] [data-testid="plus-one"]`);
    await button.waitFor({ state: 'visible' });
    await b.page.locator(`[data-player-id="${id}"]`).waitFor({ state: 'visible' });
    const watch = await watchScore(b.page, id, before + 1);
    const clicked = Date.now();
    await button.click();
    const at = await watch.shown();
    into.push(at - clicked);
    expect((await api.getPlayer(boardId, id)).score).toBe(before + 1);
    // Both pages end on the server's top rows, with their scores, and on the pick's.
    const top = (await api.getBoard(boardId, { limit: 100 })).players.map(
      (p) => `${p.id} ${p.score.toLocaleString('en-US')}`,
    );
    for (const page of [a.page, b.page]) {
      await expect
        .poll(() => rowsWithScores(page).then((rows) => rows.slice(0, 100)), patient)
        .toEqual(top);
      const score = (await api.getPlayer(boardId, id)).score.toLocaleString('en-US');
      await expect
        .poll(
          () => rowsWithScores(page).then((rows) => rows.filter((row) => row.startsWith(`${id} `))),
          patient,
        )
        .toEqual([`${id} ${score}`]);
    }
  }
  expect([...a.problems, ...b.problems]).toEqual([]);
}

/** The rows of a board page, top to bottom, as "<player id> <score>". */
function rowsWithScores(page: Page): Promise<string[]> {
  return page
    .getByTestId('player-row')
    .evaluateAll((rows) =>
      rows.map(
        (row) =>
          `${row.getAttribute('data-player-id')} ${row.querySelector('[data-testid="score"]')?.textContent}`,
      ),
    );
}
