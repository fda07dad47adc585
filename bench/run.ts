import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT_DIR } from '../local/origin.ts';
import { batchPlan, formatBatches, runBatches } from './batches.ts';
import { latencyChart } from './chart.ts';
import { benchPlan } from './plan.ts';
import { formatProfile, profileOrigin } from './profile.ts';
import { benchResult } from './result.ts';
import { runScaleOut, scaleOutPlan } from './scale-out.ts';
import { formatScaleOut } from './scale-out-table.ts';
import { runSizesOnly, runSuite } from './suite.ts';
import { formatResult, formatSizesOnly } from './table.ts';

// `npm run bench` (a few minutes) or `npm run bench -- --quick` (under a minute, for CI);
// `--only sizes` runs the board-sizes section alone (sizes[-quick]-latest.json), `--only scale-out`
// the embedded store against Redis with 1 to 3 origins (scale-out[-quick]-latest.json),
// `--only batches` score batches of 1, 100 and 1,000 entries on each store (batches[-quick]-latest.json);
// `--profile` profiles the origin under `+1` load instead (with `--quick`: small and short).
// Loopback only; everything it starts it stops; a watchdog ends a run that hangs.

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
    chart: { type: 'string' },
    /** `sizes`, `scale-out` or `batches`: only that section, in <section>[-quick]-latest.json. */
    only: { type: 'string' },
  },
});
const SECTIONS = ['sizes', 'scale-out', 'batches'];
if (values.only !== undefined && !SECTIONS.includes(values.only)) {
  console.error(`bench: --only knows ${SECTIONS.join(', ')} (not ${values.only})`);
  process.exit(2);
}
const mode = values.quick ? 'quick' : 'full';
const outDir = resolve(values.out ?? join(ROOT_DIR, 'bench', 'results'));
const chartFile = resolve(
  values.chart ??
    (mode === 'full' ? join(ROOT_DIR, 'docs', 'latency.svg') : join(outDir, 'latency-quick.svg')),
);
const flags = [
  ...(mode === 'quick' ? ['--quick'] : []),
  ...(values.only ? ['--only', values.only] : []),
];
const command = `npm run bench${flags.length > 0 ? ` -- ${flags.join(' ')}` : ''}`;
await mkdir(outDir, { recursive: true });

const watchdog = setTimeout(
  () => {
    console.error(`bench: still running after the ${mode} run's time limit; giving up`);
    process.exit(1);
  },
  (mode === 'full' ? (values.only ? 8 : 16) : 3.5) * 60_000,
);
watchdog.unref();

if (values.profile) {
  try {
    const runs = await profileOrigin(benchPlan(mode), outDir);
    const suffix = mode === 'quick' ? '-quick' : '';
    const summary = runs.map((run) => ({ ...run, file: relative(outDir, run.file) }));
    await writeFile(
      join(outDir, `profile${suffix}-latest.json`),
      `${JSON.stringify({ date: new Date().toISOString(), mode, runs: summary }, null, 2)}\n`,
    );
    console.log(formatProfile(runs));
    process.exit(0);
  } catch (error) {
    console.error('bench --profile failed:', error);
    process.exit(1);
  }
}

if (values.only === 'sizes') {
  try {
    const result = await runSizesOnly(benchPlan(mode), command);
    const stamp = result.date.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z');
    const suffix = mode === 'quick' ? '-quick' : '';
    const json = `${JSON.stringify(result, null, 2)}\n`;
    await writeFile(join(outDir, `sizes-${stamp}${suffix}.json`), json);
    await writeFile(join(outDir, `sizes${suffix}-latest.json`), json);
    console.log(formatSizesOnly(result));
    process.exit(0);
  } catch (error) {
    console.error('bench --only sizes failed:', error);
    process.exit(1);
  }
}

if (values.only === 'scale-out') {
  try {
    const result = await runScaleOut(scaleOutPlan(mode), command);
    const stamp = result.date.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z');
    const suffix = mode === 'quick' ? '-quick' : '';
    const json = `${JSON.stringify(result, null, 2)}\n`;
    await writeFile(join(outDir, `scale-out-${stamp}${suffix}.json`), json);
    await writeFile(join(outDir, `scale-out${suffix}-latest.json`), json);
    console.log(formatScaleOut(result));
    process.exit(0);
  } catch (error) {
    console.error('bench --only scale-out failed:', error);
    process.exit(1);
  }
}

if (values.only === 'batches') {
  try {
    const result = await runBatches(batchPlan(mode), command);
    const stamp = result.date.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z');
    const suffix = mode === 'quick' ? '-quick' : '';
    const json = `${JSON.stringify(result, null, 2)}\n`;
    await writeFile(join(outDir, `batches-${stamp}${suffix}.json`), json);
    await writeFile(join(outDir, `batches${suffix}-latest.json`), json);
    console.log(formatBatches(result));
    process.exit(0);
  } catch (error) {
    console.error('bench --only batches failed:', error);
    process.exit(1);
  }
}

try {
  const result = benchResult.parse(await runSuite(benchPlan(mode), command));
  const stamp = result.date.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z');
  const suffix = mode === 'quick' ? '-quick' : '';
  await mkdir(outDir, { recursive: true });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  await writeFile(join(outDir, `${stamp}${suffix}.json`), json);
  await writeFile(join(outDir, `latest${suffix}.json`), json);
  await mkdir(dirname(chartFile), { recursive: true });
  await writeFile(chartFile, latencyChart(result));
  console.log(formatResult(result));
  console.log(
    `\nWrote ${relative(process.cwd(), join(outDir, `${stamp}${suffix}.json`))}, latest${suffix}.json and ${relative(process.cwd(), chartFile)}.`,
  );
  process.exit(0);
} catch (error) {
  console.error('bench failed:', error);
  process.exit(1);
}
