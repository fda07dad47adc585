import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readinessSchema } from '../../contract/readiness.ts';
import {
  type RecordingServer,
  startRecordingServer,
  startTestOrigin,
  storeUnderTest,
  type TestOrigin,
} from '../test-origin.ts';

// /healthz says the process serves; /readyz whether it should take traffic. A real origin, a
// stand-in GRIP proxy that can be told to refuse publishes, and a data directory that can be
// taken away. On every store (vitest.config.ts), but for the data directory.
const STORE = storeUnderTest();

const plusOne = (origin: TestOrigin) =>
  origin.send('/boards/demo/players/p1/score-add/', { method: 'POST' });
const readiness = async (origin: TestOrigin) => {
  const reply = await origin.send('/readyz');
  expect(reply.headers['cache-control']).toBe('no-store');
  return { status: reply.status, body: readinessSchema.parse(JSON.parse(reply.text)) };
};

describe('/readyz', () => {
  let proxy: RecordingServer;
  let origin: TestOrigin;
  beforeAll(async () => {
    proxy = await startRecordingServer();
    origin = await startTestOrigin({ ...STORE, env: { GRIP_URL: `${proxy.url}/` } });
  });
  afterAll(async () => {
    await origin.close();
    await proxy.close();
  });

  it('is 200 before anything needed publishing', async () => {
    expect(await readiness(origin)).toEqual({
      status: 200,
      body: {
        ready: true,
        checks: { store: { ok: true }, publish: { ok: true, failingBoards: 0 } },
      },
    });
  });

  it('is 503 while publishes fail, saying so, and 200 again once the retry goes through', async () => {
    proxy.answer.status = 500;
    expect((await plusOne(origin)).status).toBe(200);
    await vi.waitFor(async () => expect((await readiness(origin)).status).toBe(503));
    const { body } = await readiness(origin);
    expect(body).toMatchObject({
      ready: false,
      checks: {
        store: { ok: true },
        publish: { ok: false, failingBoards: 1, failingSince: expect.any(String) },
      },
      error: {
        code: 'not_ready',
        message: expect.stringMatching(/publishing to the GRIP proxy fails for 1 board\(s\) since/),
      },
    });
    expect((await origin.send('/healthz')).status).toBe(200);
    proxy.answer.status = 200;
    await vi.waitFor(async () => expect((await readiness(origin)).status).toBe(200), {
      timeout: 5_000,
    });
  });

  it('answers GET only', async () => {
    const reply = await origin.send('/readyz', { method: 'POST' });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('GET');
    expect(JSON.parse(reply.text)).toMatchObject({ error: { code: 'method_not_allowed' } });
  });
});

// The embedded store's failure; run once, with the embedded suites.
describe.runIf(STORE.store === 'embedded')('/readyz after a failed write', () => {
  it('is 503 naming the store, while /healthz and the API say storage_failed', async () => {
    const origin = await startTestOrigin();
    try {
      const dataDir = dirname(origin.dataFile);
      await rm(dataDir, { recursive: true, force: true });
      await writeFile(dataDir, 'not a directory');
      expect((await plusOne(origin)).status).toBe(500);
      const { status, body } = await readiness(origin);
      expect(status).toBe(503);
      expect(body).toMatchObject({
        ready: false,
        checks: { store: { ok: false } },
        error: { code: 'not_ready', message: expect.stringMatching(/data file cannot be written/) },
      });
      const health = await origin.send('/healthz');
      expect(health.status).toBe(503);
      expect(JSON.parse(health.text)).toMatchObject({ error: { code: 'storage_failed' } });
      await rm(dataDir, { force: true });
      await mkdir(dataDir);
    } finally {
      await origin.close();
    }
  });
});
