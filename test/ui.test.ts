import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BoardView, RankedPlayer } from '../contract/board.ts';
import { apiPaths } from '../contract/paths.ts';
import { launchChromium } from '../local/chromium.ts';
import { type Client, createClient } from '../local/client.ts';
import { ROOT_DIR } from '../local/origin.ts';
import { axe, rowIds, scoreOf } from './harness/browser.ts';
import { type Stack, startTestStack } from './harness/stack.ts';

// The product's faces in real Chromium, against a real origin behind a real Pushpin: the big
// screen, the embed (framed by a real page on another origin), admin mode through the admin API,
// a 10,000-player board, the keyboard, and axe on every view.

// This machine runs other heavy work at the same time: waits are generous, never fixed sleeps.
const patient = { timeout: 30_000, interval: 100 };

interface Watched {
  page: Page;
  /** Uncaught errors and CSP violations inside our pages. */
  problems: string[];
}

/** A page on an origin of its own that frames the URL given in `?src=`. */
interface Embedder {
  origin: string;
  server: Server;
}

let stack: Stack;
let browser: Browser;
let api: Client;
let allowed: Embedder;
let refused: Embedder;
const contexts: { close(): Promise<void> }[] = [];

async function startEmbedder(): Promise<Embedder> {
  const server = createServer((req, res) => {
    const src = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '';
    const attribute = src.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(
      `<!doctype html><html lang="en"><title>Overlay</title><body style="background:#2e2a5c">` +
        `<iframe src="${attribute}" title="Leaderboard" width="400" height="480"></iframe></body></html>`,
    );
  });
  // A real server on loopback: Chromium will not let a page it cannot place on the network (one a
  // test fulfils itself) frame a loopback address, whatever the frame-ancestors say.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

beforeAll(async () => {
  if (!existsSync(join(ROOT_DIR, 'dist/web/index.html'))) {
    throw new Error('the web app is not built: run `npm run build:web` before this test');
  }
  allowed = await startEmbedder();
  refused = await startEmbedder();
  stack = await startTestStack({
    origin: { env: { FRAME_ANCESTORS: `'self' ${allowed.origin}` } },
  });
  browser = await launchChromium();
  api = createClient(stack.urls.pushpin, stack.adminToken);
});

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  allowed?.server.close();
  refused?.server.close();
});

async function newPage(options: BrowserContextOptions = {}): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  context.setDefaultTimeout(60_000);
  contexts.push(context);
  const page = await context.newPage();
  const watched: Watched = { page, problems: [] };
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) => {
      console.error('CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI);
    });`,
  });
  page.on('pageerror', (error) => watched.problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.text().startsWith('CSP violation')) watched.problems.push(message.text());
  });
  return watched;
}

async function openPage(path: string, options: BrowserContextOptions = {}): Promise<Watched> {
  const watched = await newPage(options);
  await watched.page.goto(new URL(path, stack.urls.pushpin).href);
  return watched;
}

async function whenLive(page: Page): Promise<void> {
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  await page.getByTestId('player-row').first().waitFor();
}

/** A board of `count` players named `<prefix> 1`..., added 50 at a time through the admin API. */
async function boardWith(
  name: string,
  count: number,
  prefix = 'Player',
): Promise<{ board: BoardView; players: RankedPlayer[] }> {
  const board = await api.createBoard(name);
  const players: RankedPlayer[] = [];
  const width = String(count).length;
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, (_, j) =>
      api.addPlayer(board.id, `${prefix} ${String(i + j + 1).padStart(width, '0')}`),
    );
    players.push(...(await Promise.all(batch)));
  }
  return { board, players };
}

/** How the rows of a fitted list sit in their box: all inside it, and whether one more would fit. */
async function fitOf(page: Page, box: string) {
  return page.evaluate<{ rows: number; inside: boolean; roomForOneMore: boolean }>(`(() => {
    const box = document.querySelector(${JSON.stringify(box)}).getBoundingClientRect();
    const rows = [...document.querySelectorAll('[data-testid="player-row"]')];
    const last = rows.at(-1);
    const height = last.offsetHeight;
    const gap = parseFloat(getComputedStyle(last.parentElement).rowGap) || 0;
    // Where a row is laid out, not where a slide shows it for now.
    const bottom = (row) => {
      const { transform } = getComputedStyle(row);
      const shift = transform === 'none' ? 0 : new DOMMatrixReadOnly(transform).m42;
      return row.getBoundingClientRect().bottom - shift;
    };
    return {
      rows: rows.length,
      inside: rows.every((row) => bottom(row) <= box.bottom + 0.5),
      roomForOneMore: box.height >= rows.length * (height + gap) + height,
    };
  })()`);
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

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByRole('button', { name: 'Admin', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Admin mode' });
  await dialog.getByLabel('Admin token').fill(token);
  await page.keyboard.press('Enter');
}

describe('the big screen (?view=tv)', () => {
  it('shows no buttons, a QR code to join, and as many rows as the screen is tall', async () => {
    const { board } = await boardWith('Quiz night', 40, 'Team');
    const { page, problems } = await openPage(`b/${board.id}?view=tv`, {
      viewport: { width: 1920, height: 1080 },
      colorScheme: 'dark',
    });
    await whenLive(page);

    expect(await page.locator('button').count()).toBe(0);
    expect(await page.getByTestId('plus-one').count()).toBe(0);
    expect(await page.locator('.app-header').count()).toBe(0);
    const qr = page.getByRole('img', { name: /^QR code for http:\/\/127\.0\.0\.1:\d+\/b\// });
    expect(await qr.isVisible()).toBe(true);
    const join = await page.locator('.tv-join-link').textContent();
    expect(join).toBe(`127.0.0.1:${stack.ports.pushpin}/b/${board.id}`);

    // The rows fill the height: all inside, and no room for one more.
    await expect
      .poll(() => fitOf(page, '.tv-list'), patient)
      .toMatchObject({
        inside: true,
        roomForOneMore: false,
      });
    const big = await fitOf(page, '.tv-list');
    await page.setViewportSize({ width: 1280, height: 720 });
    await expect
      .poll(async () => (await fitOf(page, '.tv-list')).rows, patient)
      .toBeLessThan(big.rows);
    const small = await fitOf(page, '.tv-list');
    expect(small).toMatchObject({ inside: true, roomForOneMore: false });
    console.log(`big screen rows: ${big.rows} at 1920x1080, ${small.rows} at 1280x720`);
    expect(small.rows).toBeGreaterThanOrEqual(5);

    // A climb into the top still slides: count the FLIP animations the page starts.
    await page.evaluate(`(() => {
      window.flips = 0;
      const animate = Element.prototype.animate;
      Element.prototype.animate = function (keyframes, options) {
        if (options && options.id === 'flip') window.flips++;
        return animate.call(this, keyframes, options);
      };
    })()`);
    const climber = (await rowIds(page)).at(-1);
    if (climber === undefined) throw new Error('the big screen shows no rows');
    await api.updatePlayer(board.id, climber, { score: 100 });
    await expect.poll(() => rowIds(page).then((ids) => ids[0]), patient).toBe(climber);
    expect(await page.evaluate<number>('window.flips')).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('is reached by the toggle on the board page (full screen), and left by keyboard', async () => {
    const { page, problems } = await openPage('b/demo');
    await whenLive(page);
    await page.getByRole('button', { name: 'Big screen' }).click();
    await page.waitForURL((url) => url.pathname === '/b/demo' && url.search === '?view=tv');
    await page.locator('.tv').waitFor();
    await expect
      .poll(() => page.evaluate<boolean>('document.fullscreenElement !== null'), patient)
      .toBe(true);
    // The same stream: live at once, no new snapshot to wait for.
    expect(await page.getByTestId('connection').getAttribute('data-state')).toBe('live');
    expect(await page.getByTestId('plus-one').count()).toBe(0);

    // The way out is the first stop of Tab; it shows itself when it has focus.
    await page.keyboard.press('Tab');
    const leave = page.getByRole('link', { name: 'Leave big screen' });
    expect(
      await page.evaluate<string | null>('document.activeElement?.textContent ?? null'),
    ).toMatch(/Leave big screen$/);
    expect(await leave.isVisible()).toBe(true);
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.pathname === '/b/demo' && url.search === '');
    await page.getByTestId('plus-one').first().waitFor();
    await expect
      .poll(() => page.evaluate<boolean>('document.fullscreenElement === null'), patient)
      .toBe(true);

    // Opened directly (not full screen), Escape leaves it too.
    await page.goto(new URL('b/demo?view=tv', stack.urls.pushpin).href);
    await page.locator('.tv').waitFor();
    await page.keyboard.press('Escape');
    await page.waitForURL((url) => url.pathname === '/b/demo' && url.search === '');
    expect(problems).toEqual([]);
  });
});

describe('the embed (?embed=1)', () => {
  it('is a compact board without chrome or buttons, on a transparent background', async () => {
    const { page, problems } = await openPage('b/demo?embed=1', {
      viewport: { width: 400, height: 480 },
    });
    await whenLive(page);
    expect(await page.locator('button').count()).toBe(0);
    expect(await page.locator('.app-header').count()).toBe(0);
    const backgrounds = await page.evaluate<string[]>(
      `[document.documentElement, document.body].map((e) => getComputedStyle(e).backgroundColor)`,
    );
    expect(backgrounds).toEqual(['rgba(0, 0, 0, 0)', 'rgba(0, 0, 0, 0)']);
    expect(await fitOf(page, '.embed-list')).toMatchObject({ inside: true });
    expect(problems).toEqual([]);
  });

  it('may be framed by an origin FRAME_ANCESTORS names, and is refused to any other', async () => {
    const src = new URL('b/demo?embed=1', stack.urls.pushpin).href;
    const framed = await newPage();
    await framed.page.goto(`${allowed.origin}/?src=${encodeURIComponent(src)}`);
    const frame = framed.page.frameLocator('iframe');
    await frame.locator('[data-testid="connection"][data-state="live"]').waitFor();
    expect(await frame.getByTestId('player-row').count()).toBeGreaterThan(0);
    expect(framed.problems).toEqual([]);

    const other = await newPage();
    const blocked = other.page.waitForEvent('requestfailed', (request) => request.url() === src);
    const said = other.page.waitForEvent('console', (message) =>
      message.text().includes('frame-ancestors'),
    );
    await other.page.goto(`${refused.origin}/?src=${encodeURIComponent(src)}`);
    expect((await blocked).failure()?.errorText).toBe('net::ERR_BLOCKED_BY_RESPONSE');
    expect((await said).text()).toContain(`frame-ancestors 'self' ${allowed.origin}`);
  });
});

describe('admin mode', () => {
  it('refuses a wrong token with the server’s message, and keeps a good one for the tab', async () => {
    const { page, problems } = await openPage('');
    await page.getByTestId('board-link').first().waitFor();
    await signIn(page, 'not-the-admin-token-at-all');
    const error = page.locator('#admin-token-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('The admin token is not valid.');
    expect(await page.getByTestId('admin-badge').count()).toBe(0);

    await page.getByLabel('Admin token').fill(stack.adminToken);
    await page.keyboard.press('Enter');
    await page.getByTestId('admin-badge').waitFor();
    expect(await page.getByRole('dialog').count()).toBe(0);
    await page.reload();
    await page.getByTestId('admin-badge').waitFor();
    expect(await page.getByRole('form', { name: 'New board' }).isVisible()).toBe(true);

    await page.getByRole('button', { name: 'Leave admin' }).click();
    await page.getByRole('button', { name: 'Admin', exact: true }).waitFor();
    expect(await page.getByRole('form', { name: 'New board' }).count()).toBe(0);
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
    expect(problems).toEqual([]);
  });

  it('creates a board, adds, renames, scores and removes players, resets and deletes it', async () => {
    const { page, problems } = await openPage('');
    await page.getByTestId('board-link').first().waitFor();
    await signIn(page, stack.adminToken);
    await page.getByTestId('admin-badge').waitFor();

    // Create: the new board opens, live and empty.
    const form = page.getByRole('form', { name: 'New board' });
    await form.getByLabel('Name').fill('Sales floor, March');
    await form.getByRole('button', { name: 'Create board' }).click();
    await page.waitForURL(/\/b\/[A-Za-z0-9_-]+$/);
    const boardId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2] ?? '');
    await page.getByRole('heading', { level: 1, name: 'Sales floor, March' }).waitFor();
    expect((await api.getBoard(boardId)).name).toBe('Sales floor, March');

    // Add, and a refusal in place: the name is taken (409).
    const addName = page.getByLabel('Add a player');
    for (const name of ['Ada', 'Grace', 'Ada']) {
      await addName.fill(name);
      await page.getByRole('button', { name: 'Add player' }).click();
    }
    const addError = page.locator('#new-player-error');
    await addError.waitFor();
    expect(await addError.textContent()).toBe('A player named "Ada" is already on this board.');
    await expect.poll(() => rowIds(page), patient).toHaveLength(2);
    const ada = (await api.getBoard(boardId)).players.find((p) => p.name === 'Ada');
    if (ada === undefined) throw new Error('Ada was not added');

    // Rename and set a score, in the player's dialog.
    await page.getByRole('button', { name: 'Edit Ada' }).click();
    const editor = page.getByRole('dialog', { name: 'Edit Ada' });
    await editor.getByLabel('Name').fill('Ada Lovelace');
    await editor.getByRole('button', { name: 'Rename' }).click();
    await expect
      .poll(() => page.locator(`[data-player-id="${ada.id}"] .name-text`).textContent(), patient)
      .toBe('Ada Lovelace');
    const renamed = page.getByRole('dialog', { name: 'Edit Ada Lovelace' });
    await renamed.getByLabel('Score').fill('42');
    await renamed.getByRole('button', { name: 'Set score' }).click();
    await expect.poll(() => scoreOf(page, ada.id), patient).toBe('42');
    expect(await api.getPlayer(boardId, ada.id)).toMatchObject({ name: 'Ada Lovelace', score: 42 });
    // The server's 400 for an out-of-range score shows beside the score field.
    await renamed.getByLabel('Score').fill('10000000000000');
    await renamed.getByRole('button', { name: 'Set score' }).click();
    const scoreError = renamed.locator('#edit-score-error');
    await scoreError.waitFor();
    expect(await scoreError.textContent()).toBe(
      'Score: Too big: expected number to be <=1000000000000.',
    );

    // Remove, after a confirmation.
    await renamed.getByRole('button', { name: 'Remove player…' }).click();
    const confirmRemove = page.getByRole('dialog', { name: 'Remove Ada Lovelace?' });
    await confirmRemove.getByRole('button', { name: 'Remove player' }).click();
    await expect.poll(() => rowIds(page), patient).toHaveLength(1);
    expect(await page.getByRole('dialog').count()).toBe(0);
    // Focus is not dropped on the page: it lands on the row that took the removed one's place.
    await expect
      .poll(() => page.evaluate(`document.activeElement?.getAttribute('aria-label')`), patient)
      .toBe('Edit Grace');
    expect((await api.request('GET', apiPaths.player(boardId, ada.id))).status).toBe(404);

    // Reset: Escape cancels (focus starts on Cancel); the confirmed reset zeroes every score.
    const grace = (await api.getBoard(boardId)).players[0];
    if (grace === undefined) throw new Error('Grace is missing');
    await api.updatePlayer(boardId, grace.id, { score: 7 });
    await expect.poll(() => scoreOf(page, grace.id), patient).toBe('7');
    await page.getByRole('button', { name: 'Reset scores…' }).click();
    const confirmReset = page.getByRole('dialog', { name: /^Reset/ });
    await confirmReset.waitFor();
    expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('Cancel');
    await page.keyboard.press('Escape');
    await confirmReset.waitFor({ state: 'hidden' });
    expect((await api.getPlayer(boardId, grace.id)).score).toBe(7);
    await page.getByRole('button', { name: 'Reset scores…' }).click();
    await confirmReset.getByRole('button', { name: 'Reset scores' }).click();
    await expect.poll(() => scoreOf(page, grace.id), patient).toBe('0');
    expect((await api.getPlayer(boardId, grace.id)).score).toBe(0);

    // Delete: back to the list, where the board is gone.
    await page.getByRole('button', { name: 'Delete board…' }).click();
    await page
      .getByRole('dialog', { name: /^Delete/ })
      .getByRole('button', { name: 'Delete board' })
      .click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByTestId('board-link').first().waitFor();
    expect(await page.getByRole('link', { name: /Sales floor, March/ }).count()).toBe(0);
    expect((await api.request('GET', apiPaths.board(boardId))).status).toBe(404);
    expect(problems).toEqual([]);
  });

  it('downloads a board’s results as CSV or JSON with the token, and says why one failed', async () => {
    const { board, players } = await boardWith('Finals, "day 2"', 2, 'Runner');
    const second = players[1];
    if (second === undefined) throw new Error('the board has fewer players than it should');
    await api.updatePlayer(board.id, second.id, { score: 5 });
    const { page, problems } = await openPage('');
    await page.getByTestId('board-link').first().waitFor();
    await signIn(page, stack.adminToken);
    await page.getByTestId('admin-badge').waitFor();
    await page.goto(new URL(`b/${board.id}`, stack.urls.pushpin).href);
    await whenLive(page);

    // The file the server named, as the browser saved it: a BOM, the header row, ranks in order.
    const save = async (label: string) => {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: label }).click(),
      ]);
      const chunks: Buffer[] = [];
      for await (const chunk of await download.createReadStream()) chunks.push(chunk);
      return { name: download.suggestedFilename(), bytes: Buffer.concat(chunks) };
    };
    const csv = await save('Download results (CSV)');
    expect(csv.name).toMatch(/^finals-day-2-\d{4}-\d{2}-\d{2}\.csv$/);
    expect([...csv.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    // Ids are random and may start with '-': the export neutralises such a cell, as any text.
    const cell = (text = '') => (/^[=+\-@]/.test(text) ? `'${text}` : text);
    expect(csv.bytes.subarray(3).toString('utf8').split('\r\n')).toEqual([
      'rank,name,score,id',
      `1,Runner 2,5,${cell(second.id)}`,
      `2,Runner 1,0,${cell(players[0]?.id)}`,
      '',
    ]);
    await page.getByText(`Downloading ${csv.name}.`).waitFor();
    const json = await save('Download results (JSON)');
    expect(json.name).toBe(csv.name.replace(/\.csv$/, '.json'));
    expect(JSON.parse(json.bytes.toString('utf8'))).toMatchObject({
      board: { id: board.id, playerCount: 2, players: [{ id: second.id, rank: 1 }, {}] },
    });

    // A refusal shows under the buttons, and nothing is saved.
    await page.evaluate(`sessionStorage.setItem('leaderboard:admin-token', 'an-old-token-123456')`);
    await page.reload();
    await whenLive(page);
    let saved = false;
    page.on('download', () => {
      saved = true;
    });
    await page.getByRole('button', { name: 'Download results (CSV)' }).click();
    const error = page.locator('#results-download-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('The admin token is not valid.');
    expect(saved).toBe(false);
    expect(problems).toEqual([]);
  });

  it('makes a game server key, shows its token once, and revokes it', async () => {
    await api.createBoard('Key scope');
    const { page, problems } = await openPage('', {
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    await page.getByTestId('board-link').first().waitFor();
    await signIn(page, stack.adminToken);
    const panel = page.getByRole('region', { name: 'Game server keys' });
    await panel.getByLabel('Name').fill('EU servers');
    await panel.getByRole('checkbox', { name: 'Key scope' }).check();
    await panel.getByLabel('Submissions per second').fill('20');
    await panel.getByRole('button', { name: 'Create key' }).click();

    const shown = panel.getByTestId('api-key-token');
    await shown.waitFor();
    const token = await shown.inputValue();
    expect(token).toMatch(/^lbk_/);
    await panel.getByRole('button', { name: 'Copy' }).click();
    await panel.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(token);
    const listed = panel.getByTestId('api-key').filter({ hasText: 'EU servers' });
    expect(await listed.textContent()).toContain('Key scope · 20/s · Never used');
    // The key is no admin token.
    const asKey = { headers: { authorization: `Bearer ${token}` } };
    expect((await api.request('GET', apiPaths.admin(), asKey)).status).toBe(401);

    // Shown once: gone after Done and after a reload.
    await panel.getByRole('button', { name: 'Done' }).click();
    await page.reload();
    await listed.waitFor();
    expect(await panel.getByTestId('api-key-token').count()).toBe(0);
    expect(await page.content()).not.toContain(token);

    await listed.getByRole('button', { name: 'Revoke…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
    await listed.filter({ hasText: 'Revoked' }).waitFor();
    const keys = (await api.request('GET', apiPaths.apiKeys(), { admin: true })).body;
    expect(JSON.stringify(keys)).toContain('revokedAt');
    expect(problems).toEqual([]);
  });

  it('shows a 403 beside the control when the kept token stops being valid', async () => {
    const board = await api.createBoard('Token rotated');
    const { page, problems } = await openPage(`b/${board.id}`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await page.evaluate(`sessionStorage.setItem('leaderboard:admin-token', 'an-old-token-123456')`);
    await page.reload();
    await page.getByTestId('admin-badge').waitFor();
    await page.getByLabel('Add a player').fill('Linus');
    await page.getByRole('button', { name: 'Add player' }).click();
    const error = page.locator('#new-player-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('The admin token is not valid.');
    expect((await api.getBoard(board.id)).playerCount).toBe(0);
    expect(problems).toEqual([]);
  });

  it('lists many boards with their player counts, and finds one by name', async () => {
    const names = ['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo', 'Foxtrot', 'Golf', 'Hôtel'];
    for (const name of names) await api.createBoard(`Search ${name}`);
    const { page, problems } = await openPage('');
    const search = page.getByLabel('Find a board');
    await search.waitFor();
    await search.fill('hotel');
    await expect.poll(() => page.getByTestId('board-link').count(), patient).toBe(1);
    const link = page.getByTestId('board-link');
    expect(await link.textContent()).toContain('Search Hôtel');
    expect(await link.getByTestId('player-count').textContent()).toBe('0 players');
    expect(problems).toEqual([]);
  });
});

describe('a 10,000-player board', () => {
  // Speed is measured by the bench, not here: this checks that the pages keep working under a
  // stream of changes to a big board, which a page that froze or dropped updates would not.
  it('shows its top 100 and stays usable while changes stream in: a +1 given mid-stream lands, and both pages end on the server’s top 100', async () => {
    const { board, players } = await boardWith('Ten thousand', 10_000);
    expect((await api.getBoard(board.id, { limit: 1 })).playerCount).toBe(10_000);
    // A player from the middle of the board, lifted to the top so that the stream stays below it.
    const target = players[5_000]?.id;
    if (target === undefined) throw new Error('the board has fewer players than it should');
    await api.updatePlayer(board.id, target, { score: 500 });

    const viewer = await openPage(`b/${board.id}`);
    const voter = await openPage(`b/${board.id}`);
    await whenLive(viewer.page);
    await whenLive(voter.page);
    expect(await rowIds(viewer.page)).toHaveLength(100);
    expect((await rowIds(voter.page))[0]).toBe(target);

    // The stream: +2 for the 90 players at the bottom of the board, one after another and round
    // again, until the test has seen what it needs. Each first +2 brings a player into the top 100
    // (below the target) and pushes a row out; later ones reorder the rows.
    const bottom = players.slice(-90).reverse();
    const streamed: string[] = [];
    let streaming = true;
    const stream = (async () => {
      for (let i = 0; streaming && i < 2_000; i++) {
        const player = bottom[i % bottom.length];
        if (player === undefined) break;
        await api.scoreAdd(board.id, player.id, 2);
        streamed.push(player.id);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    try {
      await expect
        .poll(async () => (await rowIds(voter.page)).includes(streamed[0] ?? ''), patient)
        .toBe(true);
      // Enter on the focused button, not a pointer click: rows slide as players enter below it.
      await voter.page.locator(`[data-player-id="${target}"] [data-testid="plus-one"]`).focus();
      await voter.page.keyboard.press('Enter');
      const sentBefore = streamed.length;
      await expect.poll(() => scoreOf(voter.page, target), patient).toBe('501');
      await expect.poll(() => scoreOf(viewer.page, target), patient).toBe('501');
      // The stream goes on after the vote; what it sends from now on is checked at the end.
      await expect.poll(() => streamed.length, patient).toBeGreaterThan(sentBefore + 2);
    } finally {
      streaming = false;
      await stream;
    }

    expect((await api.getPlayer(board.id, target)).score).toBe(501);
    const top = (await api.getBoard(board.id, { limit: 100 })).players.map(
      (p) => `${p.id} ${p.score}`,
    );
    expect(top.filter((row) => !row.endsWith(' 0'))).toHaveLength(new Set(streamed).size + 1);
    await expect.poll(() => rowsWithScores(voter.page), patient).toEqual(top);
    await expect.poll(() => rowsWithScores(viewer.page), patient).toEqual(top);
    expect([...viewer.problems, ...voter.problems]).toEqual([]);
  }, 900_000);
});

describe('keyboard and assistive technology', () => {
  it('gives a +1 with the keyboard alone: Tab to the button, Enter', async () => {
    const { board, players } = await boardWith('Keyboard', 3, 'Key');
    const { page, problems } = await openPage(`b/${board.id}`);
    await whenLive(page);
    let focused = '';
    for (let i = 0; i < 40 && !focused.startsWith('+1 for '); i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate<string>(
        `document.activeElement?.getAttribute('aria-label') ?? ''`,
      );
    }
    const first = players.find((p) => focused === `+1 for ${p.name}`);
    if (first === undefined) throw new Error(`Tab never reached a +1 button (at "${focused}")`);
    await page.keyboard.press('Enter');
    await expect.poll(() => scoreOf(page, first.id), patient).toBe('1');
    expect((await api.getPlayer(board.id, first.id)).score).toBe(1);
    expect(problems).toEqual([]);
  });

  it('passes axe (no serious or critical issue) on every view, light and dark', async () => {
    const { board } = await boardWith('Axe board', 12, 'Axe');
    const report: string[] = [];
    const serious: string[] = [];
    const check = async (view: string, page: Page) => {
      const result = await axe(page);
      report.push(`${view}: ${result.other.length === 0 ? 'clean' : result.other.join(', ')}`);
      serious.push(...result.serious.map((v) => `${view}: ${v}`));
    };

    for (const colorScheme of ['light', 'dark'] as const) {
      const at = (view: string) => `${view} (${colorScheme})`;
      const list = await openPage('', { colorScheme });
      await list.page.getByTestId('board-link').first().waitFor();
      await check(at('board list'), list.page);
      await list.page.getByRole('button', { name: 'Admin', exact: true }).click();
      await list.page.getByLabel('Admin token').fill('wrong-token-for-the-axe-run');
      await list.page.keyboard.press('Enter');
      await list.page.locator('#admin-token-error').waitFor();
      await check(at('admin sign-in dialog, with an error'), list.page);
      await list.page.getByLabel('Admin token').fill(stack.adminToken);
      await list.page.keyboard.press('Enter');
      await list.page.getByTestId('admin-badge').waitFor();
      await check(at('board list in admin mode'), list.page);

      const boardPage = await openPage(`b/${board.id}`, { colorScheme });
      await whenLive(boardPage.page);
      await check(at('board'), boardPage.page);
      await boardPage.page.getByRole('button', { name: 'Share' }).click();
      await boardPage.page.getByRole('dialog', { name: /^Join/ }).waitFor();
      await check(at('share dialog'), boardPage.page);

      const adminPage = list.page;
      await adminPage.goto(new URL(`b/${board.id}`, stack.urls.pushpin).href);
      await whenLive(adminPage);
      await adminPage.getByLabel('Add a player').fill('Axe 01');
      await adminPage.getByRole('button', { name: 'Add player' }).click();
      await adminPage.locator('#new-player-error').waitFor();
      await check(at('board in admin mode, with an error'), adminPage);
      await adminPage.getByRole('button', { name: 'Edit Axe 01' }).click();
      await adminPage.getByRole('dialog', { name: 'Edit Axe 01' }).waitFor();
      await check(at('player editor dialog'), adminPage);
      await adminPage.getByRole('button', { name: 'Remove player…' }).click();
      await adminPage.getByRole('dialog', { name: 'Remove Axe 01?' }).waitFor();
      await check(at('confirmation dialog'), adminPage);

      const tv = await openPage(`b/${board.id}?view=tv`, {
        colorScheme,
        viewport: { width: 1920, height: 1080 },
      });
      await whenLive(tv.page);
      await check(at('big screen'), tv.page);
      const embed = await openPage(`b/${board.id}?embed=1`, {
        colorScheme,
        viewport: { width: 400, height: 480 },
      });
      await whenLive(embed.page);
      await check(at('embed'), embed.page);
    }
    console.log(`axe, moderate and minor findings per view:\n  ${report.join('\n  ')}`);
    expect(serious).toEqual([]);
  }, 300_000);
});
