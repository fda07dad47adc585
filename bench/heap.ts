import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

// RSS after a burst of requests says how much heap V8 grew to serve it, not what the process
// keeps: V8 returns that memory lazily. What the origin keeps is its live heap after a full
// collection, which a heap snapshot measures (Node collects before it writes one). The origin runs
// with `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=<dir>` (bench/fixture.ts) for this.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The live heap of process `pid`, in bytes: the sum of every object's own size in a snapshot. */
export async function liveHeapBytes(pid: number, dir: string, timeoutMs = 60_000): Promise<number> {
  const before = new Set(await readdir(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  let file: string | undefined;
  let lastSize = -1;
  while (Date.now() < deadline) {
    await sleep(200);
    file ??= (await readdir(dir)).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (file === undefined) continue;
    const size = (await stat(join(dir, file))).size;
    if (size > 0 && size === lastSize) {
      try {
        const total = selfSizeTotal(JSON.parse(await readFile(join(dir, file), 'utf8')));
        await rm(join(dir, file), { force: true });
        return total;
      } catch {
        // Still being written: a stable size can be a pause between chunks.
      }
    }
    lastSize = size;
  }
  throw new Error(`no heap snapshot from ${pid} within ${timeoutMs} ms`);
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[] } };
  nodes: number[];
}

function selfSizeTotal(snapshot: HeapSnapshot): number {
  const fields = snapshot.snapshot.meta.node_fields;
  const width = fields.length;
  const offset = fields.indexOf('self_size');
  let total = 0;
  for (let i = offset; i < snapshot.nodes.length; i += width) total += snapshot.nodes[i] ?? 0;
  return total;
}
