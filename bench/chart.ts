import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { type BenchResult, benchResult } from './result.ts';

// A dependency-free SVG line chart of fan-out latency against the number of subscribers, drawn
// from a result file: N on a log scale, milliseconds on a linear one, the goals as markers.
// `npm run bench` writes it; `tsx bench/chart.ts [result.json] [chart.svg]` redraws it from a file
// (defaults: bench/results/latest.json and docs/latency.svg).

const WIDTH = 640;
const HEIGHT = 360;
const PAD = { left: 64, right: 150, top: 40, bottom: 52 };
const GOALS: readonly { n: number; ms: number }[] = [
  { n: 1_000, ms: 50 },
  { n: 10_000, ms: 250 },
];

interface Series {
  label: string;
  color: string;
  dash?: string;
  points: { n: number; ms: number }[];
}

const escapeXml = (text: string) =>
  text.replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c,
  );

/** Round up to a readable number (1, 1.5, 2, 3, 4, 5, 6 or 8 times a power of ten). */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(value, 1e-9)));
  for (const step of [1, 1.5, 2, 3, 4, 5, 6, 8, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/** The chart as an SVG document. */
export function latencyChart(result: BenchResult): string {
  const runs = [...result.fanout].sort((a, b) => a.subscribers - b.subscribers);
  const series: Series[] = [
    {
      label: 'p50',
      color: '#2563eb',
      points: runs.map((r) => ({ n: r.subscribers, ms: r.publishToReceive.p50Ms })),
    },
    {
      label: 'p99',
      color: '#dc2626',
      points: runs.map((r) => ({ n: r.subscribers, ms: r.publishToReceive.p99Ms })),
    },
    {
      label: 'max',
      color: '#6b7280',
      dash: '4 3',
      points: runs.map((r) => ({ n: r.subscribers, ms: r.publishToReceive.maxMs })),
    },
  ];
  const ns = runs.map((r) => r.subscribers);
  const minN = Math.min(...ns);
  const maxN = Math.max(...ns);
  const lo = Math.log10(minN) - 0.15;
  const hi = Math.log10(Math.max(maxN, minN * 10)) + 0.15;
  const goals = GOALS.filter((g) => g.n >= minN && g.n <= maxN);
  const top = niceCeiling(
    Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.ms)), ...goals.map((g) => g.ms)),
  );
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (n: number) => PAD.left + ((Math.log10(n) - lo) / (hi - lo)) * plotW;
  const y = (ms: number) => PAD.top + plotH - (ms / top) * plotH;
  const f = (v: number) => v.toFixed(1);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12" role="img" aria-labelledby="title">`,
    `<title id="title">Fan-out latency through Pushpin against the number of subscribers</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${PAD.left}" y="22" font-size="14" font-weight="600" fill="#111827">Publish-to-receive latency, one board, through Pushpin</text>`,
  );
  for (let i = 0; i <= 5; i++) {
    const ms = (top / 5) * i;
    parts.push(
      `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${f(y(ms))}" y2="${f(y(ms))}" stroke="#e5e7eb"/>`,
      `<text x="${PAD.left - 8}" y="${f(y(ms) + 4)}" text-anchor="end" fill="#374151">${Number(ms.toFixed(1))}</text>`,
    );
  }
  for (const n of ns) {
    parts.push(
      `<line x1="${f(x(n))}" x2="${f(x(n))}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#f3f4f6"/>`,
      `<text x="${f(x(n))}" y="${PAD.top + plotH + 18}" text-anchor="middle" fill="#374151">${n.toLocaleString('en-US')}</text>`,
    );
  }
  parts.push(
    `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#111827"/>`,
    `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#111827"/>`,
    `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle" fill="#111827">SSE subscribers on one board (log scale)</text>`,
    `<text transform="translate(16 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#111827">milliseconds</text>`,
  );
  for (const goal of goals) {
    parts.push(
      `<line x1="${f(x(goal.n) - 14)}" x2="${f(x(goal.n) + 14)}" y1="${f(y(goal.ms))}" y2="${f(y(goal.ms))}" stroke="#16a34a" stroke-width="3"><title>goal at N=${goal.n}: p99 ≤ ${goal.ms} ms</title></line>`,
    );
  }
  for (const s of series) {
    const path = s.points
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${f(x(p.n))},${f(y(p.ms))}`)
      .join(' ');
    parts.push(
      `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      ...s.points.map(
        (p) =>
          `<circle cx="${f(x(p.n))}" cy="${f(y(p.ms))}" r="3" fill="${s.color}"><title>${s.label} at N=${p.n}: ${p.ms} ms</title></circle>`,
      ),
    );
  }
  const legendX = PAD.left + plotW + 20;
  const legend: { label: string; color: string; dash?: string; width: number }[] = [
    ...series.map((s) => ({ ...s, width: 2 })),
    ...(goals.length > 0 ? [{ label: 'goal for p99', color: '#16a34a', width: 3 }] : []),
  ];
  legend.forEach((entry, i) => {
    const ly = PAD.top + 10 + i * 20;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 24}" y1="${ly}" y2="${ly}" stroke="${entry.color}" stroke-width="${entry.width}"${entry.dash ? ` stroke-dasharray="${entry.dash}"` : ''}/>`,
      `<text x="${legendX + 30}" y="${ly + 4}" fill="#111827">${entry.label}</text>`,
    );
  });
  const note = [
    `${result.machine.cores} cores, Pushpin ${result.machine.pushpin}`,
    `message_rate ${result.settings.pushpinMessageRate.toLocaleString('en-US')}/s`,
    `${result.mode} run, ${result.date.slice(0, 10)}`,
    `load ${result.load.before[0].toFixed(1)} before`,
  ];
  note.forEach((line, i) => {
    parts.push(
      `<text x="${legendX}" y="${PAD.top + 110 + i * 16}" fill="#6b7280" font-size="11">${escapeXml(line)}</text>`,
    );
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const input = process.argv[2] ?? new URL('./results/latest.json', import.meta.url);
  const output = process.argv[3] ?? new URL('../docs/latency.svg', import.meta.url);
  const result = benchResult.parse(JSON.parse(await readFile(input, 'utf8')));
  await writeFile(output, latencyChart(result));
}
