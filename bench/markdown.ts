/** A Markdown table with padded columns (as Biome formats them), numbers right-aligned. */
export function markdownTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const right = head.map((_, i) => rows.every((row) => /^[-\d.,%x ]+$|^$/.test(row[i] ?? '')));
  const width = head.map((h, i) =>
    Math.max(3, h.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const cell = (text: string, i: number) =>
    right[i] ? text.padStart(width[i] ?? 0) : text.padEnd(width[i] ?? 0);
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = head.map((_, i) =>
    right[i] ? `${'-'.repeat((width[i] ?? 3) - 1)}:` : '-'.repeat(width[i] ?? 3),
  );
  return [line(head), `| ${rule.join(' | ')} |`, ...rows.map(line)].join('\n');
}
