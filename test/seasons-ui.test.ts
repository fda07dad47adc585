import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduleBody } from '../contract/board.ts';
import { launchChromium } from '../local/chromium.ts';
import { type Client, createClient } from '../local/client.ts';
import { ROOT_DIR } from '../local/origin.ts';
import { axe } from './harness/browser.ts';
import { type Stack, startTestStack } from './harness/stack.ts';

// Season schedules in admin mode, in real Chromium against a real origin behind a real Pushpin:
// a board made with a weekly schedule through the new-board form (a refused time zone shown on its
// field first), its countdown on the board page and the big screen, the schedule changed and then
// removed from the board's page, the past seasons page, and axe on each of those views.

const patient = { timeout: 30_000, interval: 100 };

let stack: Stack;
let browser: Browser;
let api: Client;
const contexts: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  if (!existsSync(join(ROOT_DIR, 'dist/web/index.html'))) {
    throw new Error('the web app is not built: run `npm run build:web` before this test');
  }
  stack = await startTestStack();
  browser = await launchChromium();
  api = createClient(stack.urls.pushpin, stack.adminToken);
});

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

interface Watched {
  page: Page;
  /** Uncaught errors inside our pages. */
  problems: string[];
}

/** A page in a browser set to Paris time, at `path` of the stack. */
async function openPage(path: string, options: BrowserContextOptions = {}): Promise<Watched> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    timezoneId: 'Europe/Paris',
    ...options,
  });
  context.setDefaultTimeout(60_000);
  contexts.push(context);
  const page = await context.newPage();
  const watched: Watched = { page, problems: [] };
  page.on('pageerror', (error) => watched.problems.push(`page error: ${error.message}`));
  await page.goto(new URL(path, stack.urls.pushpin).href);
  return watched;
}

/** The schedule the API says the board has. */
async function scheduleOf(boardId: string): Promise<ScheduleBody | undefined> {
  return (await api.getBoard(boardId, { limit: 1 })).season?.schedule;
}

describe('season schedules in admin mode', () => {
  it.each(['light', 'dark'] as const)(
    'makes a weekly board through the form, counts down to its reset on the board and the big screen, changes and removes the schedule (%s)',
    async (colorScheme) => {
      const started = Date.now();
      const findings: string[] = [];
      const serious: string[] = [];
      const check = async (view: string, page: Page) => {
        const result = await axe(page);
        findings.push(
          `${view} (${colorScheme}): ${result.other.length === 0 ? 'clean' : result.other.join(', ')}`,
        );
        serious.push(...result.serious.map((v) => `${view} (${colorScheme}): ${v}`));
      };

      const { page, problems } = await openPage('', { colorScheme });
      await page.getByTestId('board-link').first().waitFor();
      await page.getByRole('button', { name: 'Admin', exact: true }).click();
      await page
        .getByRole('dialog', { name: 'Admin mode' })
        .getByLabel('Admin token')
        .fill(stack.adminToken);
      await page.keyboard.press('Enter');
      await page.getByTestId('admin-badge').waitFor();

      // Never, by default: no time or zone to fill. Weekly asks for a day, a time and a zone, the
      // browser's own by default.
      const form = page.getByRole('form', { name: 'New board' });
      const resets = form.getByLabel('Resets');
      expect(await resets.inputValue()).toBe('never');
      expect(await form.getByLabel('Time zone').count()).toBe(0);
      await form.getByLabel('Name').fill('Weekly cup');
      await resets.selectOption({ label: 'Every week' });
      const zone = form.getByLabel('Time zone');
      expect(await zone.inputValue()).toBe('Europe/Paris');
      expect(await form.getByLabel('Day', { exact: true }).inputValue()).toBe('1');

      // A zone the API does not know: its refusal shows on the zone's field, not on the name.
      await zone.fill('Mars/Olympus_Mons');
      await form.getByRole('button', { name: 'Create board' }).click();
      const zoneError = page.locator('#new-board-schedule-timeZone-error');
      await zoneError.waitFor();
      expect(await zoneError.textContent()).toMatch(
        /^"Mars\/Olympus_Mons" is not an IANA time zone/,
      );
      expect(await zone.getAttribute('aria-invalid')).toBe('true');
      expect(await page.locator('#new-board-error').count()).toBe(0);
      await check('new board form, schedule refused', page);

      await zone.fill('Europe/Paris');
      expect(await zoneError.count()).toBe(0);
      await form.getByLabel('Day', { exact: true }).selectOption({ label: 'Wednesday' });
      await form.getByLabel('Time', { exact: true }).fill('09:30');
      await form.getByRole('button', { name: 'Create board' }).click();
      await page.waitForURL(/\/b\/[A-Za-z0-9_-]+$/);
      const boardId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2] ?? '');
      expect(await scheduleOf(boardId)).toEqual({
        every: 'week',
        weekday: 3,
        at: '09:30',
        timeZone: 'Europe/Paris',
      });

      // The board page: its countdown, and the schedule in words in the admin panel.
      await page.getByRole('heading', { level: 1, name: 'Weekly cup' }).waitFor();
      const countdown = page.locator('.board-header .season-countdown');
      await expect.poll(() => countdown.textContent(), patient).toMatch(/^Season 1 · resets in \d/);
      const words = page.getByTestId('board-schedule');
      expect(await words.textContent()).toBe('Resets every Wednesday at 09:30, Europe/Paris.');
      await check('board in admin mode, with a schedule', page);

      // The big screen counts down to the same reset, and follows a change of schedule live.
      const tv = await openPage(`b/${boardId}?view=tv`, {
        colorScheme,
        viewport: { width: 1920, height: 1080 },
      });
      const tvCountdown = tv.page.locator('.tv .season-countdown');
      await expect
        .poll(() => tvCountdown.textContent(), patient)
        .toMatch(/^Season 1 · resets in \d/);
      const endsAt = (await api.getBoard(boardId, { limit: 1 })).season?.endsAt;
      expect(await tvCountdown.locator('time').getAttribute('datetime')).toBe(endsAt);
      await check('big screen, with a countdown', tv.page);

      // Change it: a day of the month past 31 is refused in place, then monthly on the 31st.
      await page.getByRole('button', { name: 'Change schedule…' }).click();
      const edit = page.getByRole('form', { name: 'Reset schedule' });
      expect(await edit.getByLabel('Time zone').inputValue()).toBe('Europe/Paris');
      expect(await edit.getByLabel('Time', { exact: true }).inputValue()).toBe('09:30');
      await edit.getByLabel('Resets').selectOption({ label: 'Every month' });
      const day = edit.getByLabel('Day of the month');
      await day.fill('40');
      await edit.getByRole('button', { name: 'Save schedule' }).click();
      const dayError = page.locator('#board-schedule-day-error');
      await dayError.waitFor();
      expect(await dayError.textContent()).toBe(
        'The day of the month is a whole number from 1 to 31.',
      );
      expect(await day.getAttribute('aria-describedby')).toBe(
        'board-schedule-day-hint board-schedule-day-error',
      );
      await check('board in admin mode, changing the schedule, with an error', page);
      await day.fill('31');
      await edit.getByLabel('Time', { exact: true }).fill('06:00');
      await edit.getByRole('button', { name: 'Save schedule' }).click();
      await expect
        .poll(() => words.textContent(), patient)
        .toBe('Resets on the 31st of every month (or its last day) at 06:00, Europe/Paris.');
      expect(await scheduleOf(boardId)).toEqual({
        every: 'month',
        day: 31,
        at: '06:00',
        timeZone: 'Europe/Paris',
      });
      const newEndsAt = (await api.getBoard(boardId, { limit: 1 })).season?.endsAt;
      expect(newEndsAt).not.toBe(endsAt);
      await expect
        .poll(() => tvCountdown.locator('time').getAttribute('datetime'), patient)
        .toBe(newEndsAt);

      // Past seasons: none has ended yet; the season under way counts down there too.
      await page.goto(new URL(`b/${boardId}/seasons`, stack.urls.pushpin).href);
      await page.getByRole('heading', { level: 1, name: 'Past seasons' }).waitFor();
      await page.getByText('No season has ended yet.').waitFor();
      expect(await page.locator('.season-countdown').textContent()).toMatch(
        /^Season 1 · resets in/,
      );
      await check('past seasons, none yet', page);

      // Remove it, after a confirmation: the countdown goes, the board stays.
      await page.getByRole('link', { name: 'Back to the board' }).click();
      await page.getByRole('button', { name: 'Remove schedule…' }).click();
      const confirm = page.getByRole('dialog', { name: 'Stop resetting “Weekly cup”?' });
      await confirm.waitFor();
      await check('confirm removing the schedule', page);
      await confirm.getByRole('button', { name: 'Remove schedule' }).click();
      await expect.poll(() => words.textContent(), patient).toBe('Never resets on its own.');
      expect(await countdown.count()).toBe(0);
      expect(await scheduleOf(boardId)).toBe(undefined);
      await expect.poll(() => tvCountdown.count(), patient).toBe(0);

      console.log(`axe, moderate and minor findings per view:\n  ${findings.join('\n  ')}`);
      console.log(`season schedules in admin mode (${colorScheme}): ${Date.now() - started} ms`);
      expect(serious).toEqual([]);
      expect([...problems, ...tv.problems]).toEqual([]);
    },
  );
});
