import { type ImportRow, importRowSchema } from '../../contract/requests.ts';

/** A line refused by an import, 1-based as an editor shows it. */
export interface LineProblem {
  line: number;
  message: string;
}

/** Rows read so far, the line each came from, and what was refused. */
export interface ParsedImport {
  rows: ImportRow[];
  lines: number[];
  problems: LineProblem[];
}

/** Problems kept: enough to fix a file in one go, never a flood. */
export const MAX_PROBLEMS = 100;

/**
 * Reads an import one line at a time (NDJSON, or CSV under a `name[,score]` header), so a
 * million rows never sit in memory as text. Each line is checked against the contract's row
 * schema on its own; a bad line is reported by number and reading goes on.
 */
export class ImportReader {
  readonly parsed: ParsedImport = { rows: [], lines: [], problems: [] };
  private lineNumber = 0;
  private columns: string[] | undefined;

  constructor(private readonly format: 'ndjson' | 'csv') {}

  /** Reads one line (without its line break). */
  line(text: string): void {
    this.lineNumber++;
    if (text.trim() === '') return;
    if (this.format === 'csv' && this.columns === undefined) {
      this.header(text);
      return;
    }
    const value = this.format === 'ndjson' ? parseJson(text) : this.csvRow(text);
    if (typeof value === 'string') {
      this.problem(value);
      return;
    }
    const row = importRowSchema.safeParse(value);
    if (!row.success) {
      this.problem(
        row.error.issues.map((i) => `${i.path.join('.') || 'row'}: ${i.message}`).join('; '),
      );
      return;
    }
    this.parsed.rows.push(row.data);
    this.parsed.lines.push(this.lineNumber);
  }

  /** Whether reading should stop: too many problems to be worth reading on. */
  get full(): boolean {
    return this.parsed.problems.length >= MAX_PROBLEMS;
  }

  /** Says a line is wrong, once it is known which. */
  problem(message: string, line = this.lineNumber): void {
    if (this.parsed.problems.length < MAX_PROBLEMS) this.parsed.problems.push({ line, message });
  }

  /** Problems found once every line is in: an empty file, a CSV with no rows. */
  finish(): void {
    if (this.format === 'csv' && this.columns === undefined) {
      this.problem('a CSV import starts with the header name or name,score', 1);
    } else if (this.parsed.rows.length === 0 && this.parsed.problems.length === 0) {
      this.problem('no players in the import', Math.max(1, this.lineNumber));
    }
  }

  private header(text: string): void {
    const columns = splitCsv(text);
    const names = typeof columns === 'string' ? [] : columns.map((c) => c.trim().toLowerCase());
    if (names.join(',') === 'name' || names.join(',') === 'name,score') {
      this.columns = names;
    } else {
      this.problem('the CSV header must be name or name,score');
      this.columns = ['name', 'score'];
    }
  }

  private csvRow(text: string): Record<string, unknown> | string {
    const fields = splitCsv(text);
    if (typeof fields === 'string') return fields;
    const columns = this.columns ?? [];
    if (fields.length !== columns.length) {
      return `expected ${columns.length} field(s) (${columns.join(',')}), found ${fields.length}`;
    }
    const [name, score] = fields;
    if (score === undefined || score.trim() === '') return { name };
    const number = /^-?\d{1,13}$/.test(score.trim()) ? Number(score.trim()) : Number.NaN;
    return Number.isNaN(number) ? 'score: must be a whole number' : { name, score: number };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return 'not a JSON object';
  }
}

/**
 * One CSV record on one line (RFC 4180 quoting: `"a ""b"", c"`). A quoted field cannot span
 * lines here: names never hold line breaks.
 */
export function splitCsv(text: string): string[] | string {
  const fields: string[] = [];
  let i = 0;
  while (i <= text.length) {
    const field = text[i] === '"' ? quotedField(text, i + 1) : plainField(text, i);
    if (typeof field === 'string') return field;
    fields.push(field.value);
    i = field.next + 1;
  }
  return fields;
}

/** A field up to the next comma (or the end). */
function plainField(text: string, start: number): { value: string; next: number } {
  const end = text.indexOf(',', start);
  const next = end < 0 ? text.length : end;
  return { value: text.slice(start, next), next };
}

/** A quoted field whose text starts at `start`; `next` is the comma after it (or the end). */
function quotedField(text: string, start: number): { value: string; next: number } | string {
  let value = '';
  let i = start;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote < 0) return 'a quoted field is not closed on its line';
    value += text.slice(i, quote);
    if (text[quote + 1] !== '"') {
      i = quote + 1;
      break;
    }
    value += '"';
    i = quote + 2;
  }
  if (i < text.length && text[i] !== ',') return 'text after a closing quote';
  return { value, next: i };
}
