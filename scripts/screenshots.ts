import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { launchChromium } from '../local/chromium.ts';
import { createClient } from '../local/client.ts';
import { ROOT_DIR } from '../local/origin.ts';
import { startStack } from '../local/stack.ts';

// The pictures in docs/ (README, issue threads), taken from the built app on a real stack: a
// board seeded through the admin API, live through Pushpin, in real Chromium.

const DOCS = join(ROOT_DIR, 'docs');

const TEAMS: [string, number][] = [
  ['The Quizzly Bears', 42],
  ['Les Savants Fous', 39],
  ['Agatha Quiztie', 37],
  ['Trivia Newton-John', 31],
  ['Ctrl Alt Defeat', 28],
  ['The Mitochondriacs', 26],
  ['Quiz Khalifa', 23],
  ['Los Sabelotodo', 19],
  ['Björk Busters', 17],
  ['Universally Challenged', 14],
  ['Tequila Mockingbird', 12],
  ['Smarty Pints', 9],
  ['The Fact Hunt', 6],
  ['Pun Intended', 3],
];

async function settle(page: Page): Promise<void> {
  // Slides, flashes and fades finished (the live dot pulses forever): the picture shows the page at rest. (Polled with
  // evaluate: waitForFunction would compile the string in the page, which its CSP forbids.)
  const deadline = Date.now() + 15_000;
  const atRest = `document.getAnimations().every((a) =>
    a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)`;
  while (!(await page.evaluate<boolean>(atRest))) {
    if (Date.now() > deadline)
      throw new Error(`${page.url()}: animations still running after 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function shoot(
  browser: Browser,
  file: string,
  url: string,
  options: BrowserContextOptions,
  prepare: (page: Page) => Promise<void>,
): Promise<void> {
  const context = await browser.newContext(options);
  try {
    const page = await context.newPage();
    await page.goto(url);
    await prepare(page);
    await settle(page);
    const path = join(DOCS, file);
    await page.screenshot({ path });
    const { size } = await stat(path);
    console.log(`${path} (${Math.round(size / 1024)} KB)`);
  } finally {
    await context.close();
  }
}

async function live(page: Page): Promise<void> {
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout: 30_000 });
  await page.getByTestId('player-row').first().waitFor({ timeout: 30_000 });
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT_DIR, 'dist/web/index.html'))) {
    throw new Error('the web app is not built: run `npm run build:web` first');
  }
  await mkdir(DOCS, { recursive: true });
  // The page that frames the embed, on an origin of its own that the stack allows to frame it.
  // A real server on loopback: Chromium refuses a page it cannot place on the network (one a test
  // fulfils itself) the right to frame a loopback address.
  let embedUrl = '';
  const overlay = createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(overlayPage(embedUrl));
  });
  const overlayOrigin = await listen(overlay);
  const stack = await startStack({
    origin: { env: { FRAME_ANCESTORS: `'self' ${overlayOrigin}` } },
  });
  let browser: Browser | undefined;
  try {
    const api = createClient(stack.urls.pushpin, stack.adminToken);
    const board = await api.createBoard('Friday Quiz Night');
    const players = await Promise.all(TEAMS.map(([name]) => api.addPlayer(board.id, name)));
    await Promise.all(
      players.map((player, i) =>
        api.updatePlayer(board.id, player.id, { score: TEAMS[i]?.[1] ?? 0 }),
      ),
    );
    const pick = players[3];
    const boardUrl = new URL(`b/${board.id}`, stack.urls.pushpin).href;
    browser = await launchChromium();

    await shoot(
      browser,
      'board.png',
      boardUrl,
      { viewport: { width: 1280, height: 800 }, colorScheme: 'light' },
      async (page) => {
        await live(page);
        if (pick !== undefined) {
          await page.getByRole('button', { name: `+1 for ${pick.name}` }).click();
          await page.locator(`[data-player-id="${pick.id}"] .pick-tag`).waitFor();
          // The pointer away, so no button is caught in its hover colour.
          await page.mouse.move(0, 0);
        }
      },
    );

    await shoot(
      browser,
      'tv.png',
      `${boardUrl}?view=tv`,
      { viewport: { width: 1920, height: 1080 }, colorScheme: 'dark' },
      live,
    );

    await shoot(
      browser,
      'phone.png',
      boardUrl,
      {
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
        colorScheme: 'light',
      },
      live,
    );

    embedUrl = `${boardUrl}?embed=1&theme=dark`;
    await shoot(
      browser,
      'embed.png',
      overlayOrigin,
      { viewport: { width: 960, height: 540 } },
      async (page) => {
        const frame = page.frameLocator('iframe');
        await frame.locator('[data-testid="connection"][data-state="live"]').waitFor();
        await frame.getByTestId('player-row').first().waitFor();
      },
    );
  } finally {
    await browser?.close();
    await stack.stop();
    overlay.close();
  }
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// A stand-in for a stream: a game scene in flat colours (they keep the PNG small), with the board
// framed in a corner as an overlay.
function overlayPage(embedUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Stream overlay</title><style>
  html, body { margin: 0; height: 100%; overflow: hidden; background: #2e2a5c; font-family: sans-serif; }
  .sun { position: absolute; left: 180px; top: 120px; width: 220px; height: 220px;
    border-radius: 50%; background: #f59e0b; }
  .hill { position: absolute; border-radius: 50%; }
  .far { left: -200px; top: 380px; width: 1100px; height: 600px; background: #3f6f5f; }
  .near { left: 300px; top: 450px; width: 1400px; height: 700px; background: #24524a; }
  .caption { position: absolute; left: 40px; bottom: 32px; margin: 0; padding: 10px 18px;
    border-radius: 10px; background: #111827; color: #fff; font: 700 28px sans-serif; }
  iframe { position: absolute; top: 24px; right: 24px; width: 380px; height: 470px; border: 0; }
</style></head><body><div class="sun"></div><div class="hill far"></div><div class="hill near"></div>
<p class="caption">Round 4: music</p>
<iframe src="${embedUrl}" title="Friday Quiz Night leaderboard"></iframe>
</body></html>`;
}

await main();
