import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchPlan } from '../bench/plan.ts';
import { benchResult } from '../bench/result.ts';
import { MAX_MESSAGE_BYTES } from '../contract/windows.ts';
import { ROOT_DIR } from '../local/origin.ts';

// The benchmark must not rot: its quick mode runs here, end to end, against a real origin and a
// real Pushpin. Figures depend on the machine and are only printed; what is checked is that the
// run finishes by itself and leaves a well-formed result with every section, and a chart.

let dir: string | undefined;

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
      cwd: ROOT_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench -- --quick', () => {
  it('measures every section and writes a result file and a chart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-test-'));
    const chart = join(dir, 'latency.svg');
    const run = await runCli(['--quick', '--out', dir, '--chart', chart]);
    console.log(run.stdout);
    expect(run.code, run.stderr).toBe(0);

    const files = await readdir(dir);
    expect(files).toContain('latest-quick.json');
    expect(
      files.filter((f) => /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ-quick\.json$/.test(f)),
    ).toHaveLength(1);

    const parsed = benchResult.safeParse(
      JSON.parse(await readFile(join(dir, 'latest-quick.json'), 'utf8')),
    );
    expect(parsed.error).toBeUndefined();
    const result = parsed.data;
    if (result === undefined) return;
    const plan = benchPlan('quick');
    expect(result.mode).toBe('quick');
    expect(result.source?.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(result.scoreAdd.map((r) => [r.via, r.players])).toEqual(
      plan.scoreAdd.boards.flatMap((players) => [
        ['origin', players],
        ['pushpin', players],
      ]),
    );
    expect(result.fanout.map((r) => r.subscribers)).toEqual(
      plan.fanout.steps.map((s) => s.subscribers),
    );
    expect(result.held.subscribers).toBeGreaterThan(0);
    // Every message published under +1 load fits in Fanout's 64 KiB.
    expect(result.amplification.largestPublishBytes).toBeGreaterThan(0);
    expect(result.amplification.largestPublishBytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(result.goals.length).toBeGreaterThan(0);

    const svg = await readFile(chart, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(3);
    for (const section of [
      '**Ceiling**',
      '**Durable +1**',
      '**Fan-out**',
      '**Held subscribers**',
      '**Publish amplification**',
      '**Goals**',
    ]) {
      expect(run.stdout).toContain(section);
    }
  }, 240_000);
});
