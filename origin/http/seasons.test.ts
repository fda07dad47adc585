import { afterEach, describe, expect, it } from 'vitest';
import { seasonListSchema, seasonViewSchema } from '../../contract/scores.ts';
import type { Schedule } from '../domain/schedule.ts';
import { ADMIN_TOKEN, startTestOrigin, storeUnderTest, type TestOrigin } from '../test-origin.ts';

// Seasons over HTTP against a real origin on the store under test: schedules on POST and PATCH
// /boards/, a boundary crossed on the origin's clock (one 'season' reload), the seasons endpoints.
// The scheduler itself, and several origins on one Redis, are in origin/seasons.test.ts.

const STORE = storeUnderTest();
const daily: Schedule = { every: 'day', at: '00:00', timeZone: 'UTC' };
const at = (iso: string) => new Date(iso);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('seasons over HTTP', () => {
  let origin: TestOrigin | undefined;
  afterEach(async () => {
    await origin?.close();
    origin = undefined;
  });

  const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

  it('refuses a schedule in a time zone that does not exist, naming the field', async () => {
    origin = await startTestOrigin(STORE);
    const body = JSON.stringify({
      name: 'Nowhere',
      schedule: { every: 'day', at: '00:00', timeZone: 'Mars/Olympus_Mons' },
    });
    const reply = await origin.send('/boards/', { method: 'POST', headers: admin, body });
    expect(reply.status).toBe(400);
    const { error } = JSON.parse(reply.text);
    expect(error.code).toBe('invalid_schedule');
    expect(error.message).toMatch(/^schedule\.timeZone: .*Mars\/Olympus_Mons/);
    const patch = JSON.stringify({ schedule: { every: 'week', at: '09:00', timeZone: 'UTC' } });
    const patched = await origin.send('/boards/demo/', {
      method: 'PATCH',
      headers: admin,
      body: patch,
    });
    expect(patched.status).toBe(400);
    expect(JSON.parse(patched.text).error.message).toMatch(/^schedule\.weekday: /);
  });

  it('rolls a board made with a schedule on the injected clock, publishing one reload', async () => {
    let now = at('2030-01-01T10:00:00Z').getTime();
    origin = await startTestOrigin({ ...STORE, clock: { now: () => now } });
    const create = JSON.stringify({ name: 'Daily', schedule: daily });
    const created = await origin.send('/boards/', { method: 'POST', headers: admin, body: create });
    expect(created.status).toBe(201);
    const board = JSON.parse(created.text);
    expect(board.season).toMatchObject({ number: 1, endsAt: '2030-01-02T00:00:00.000Z' });
    const ada = JSON.parse(
      (
        await origin.send(`/boards/${board.id}/players/`, {
          method: 'POST',
          headers: admin,
          body: JSON.stringify({ name: 'Ada' }),
        })
      ).text,
    );
    await origin.send(`/boards/${board.id}/players/${ada.id}/score-add/`, { method: 'POST' });

    now = at('2030-01-02T00:00:01Z').getTime();
    const publishedBefore = origin.published.length;
    await origin.seasons.check();
    const reloadsOf = (o: TestOrigin) =>
      o.published
        .slice(publishedBefore)
        .map((message) => JSON.stringify(message))
        .filter((text) => text.includes('event: reload'));
    // Published once durable, a moment after the roll.
    for (let i = 0; i < 100 && reloadsOf(origin).length === 0; i++) await sleep(20);
    await sleep(100);
    const reloads = reloadsOf(origin);
    expect(reloads).toHaveLength(1);
    expect(reloads[0]).toContain('\\"reason\\":\\"season\\"');

    const list = seasonListSchema.parse(
      JSON.parse((await origin.send(`/boards/${board.id}/seasons/`)).text),
    );
    expect(list.current?.number).toBe(2);
    expect(list.seasons.map((s) => [s.number, s.playerCount])).toEqual([[1, 1]]);
    const season = await origin.send(`/boards/${board.id}/seasons/1/?limit=10`);
    expect(season.status).toBe(200);
    const view = seasonViewSchema.parse(JSON.parse(season.text));
    expect(view.players.map((p) => [p.name, p.score, p.rank])).toEqual([['Ada', 1, 1]]);

    expect((await origin.send(`/boards/${board.id}/seasons/9/`)).status).toBe(404);
    const missing = JSON.parse((await origin.send(`/boards/${board.id}/seasons/9/`)).text);
    expect(missing.error.code).toBe('season_not_found');
    for (const bad of ['0', 'x', '-1', '1.5']) {
      expect((await origin.send(`/boards/${board.id}/seasons/${bad}/`)).status).toBe(400);
    }
  });

  it('sets and removes a schedule with PATCH (admin only)', async () => {
    origin = await startTestOrigin({
      ...STORE,
      clock: { now: () => at('2030-03-01T12:00:00Z').getTime() },
    });
    const body = JSON.stringify({ schedule: daily });
    const json = { 'content-type': 'application/json' };
    const anonymous = await origin.send('/boards/demo/', { method: 'PATCH', headers: json, body });
    expect(anonymous.status).toBe(401);
    const set = await origin.send('/boards/demo/', { method: 'PATCH', headers: admin, body });
    expect(set.status).toBe(200);
    expect(JSON.parse(set.text).season).toMatchObject({
      number: 1,
      startedAt: '2030-03-01T12:00:00.000Z',
    });
    const off = JSON.stringify({ schedule: null });
    const removed = await origin.send('/boards/demo/', {
      method: 'PATCH',
      headers: admin,
      body: off,
    });
    expect(JSON.parse(removed.text).season).toBeUndefined();
    const list = JSON.parse((await origin.send('/boards/demo/seasons/')).text);
    expect(list).toEqual({ seasons: [] });
  });
});
