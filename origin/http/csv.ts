/** One cell: text, or a number written as is. */
export type Cell = string | number;

/** The byte-order mark that tells spreadsheet programs the file is UTF-8. */
const BOM = '\ufeff';

// A spreadsheet reads a cell that starts with one of these as a formula (CSV injection).
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A CSV document as RFC 4180 writes it: CRLF line ends, a field quoted when it holds a comma, a
 * quote or a line break, quotes doubled. It starts with a UTF-8 byte-order mark, so spreadsheets
 * read names in any script correctly.
 *
 * Text that a spreadsheet would run as a formula (starting with = + - @ tab or CR) gets a leading
 * apostrophe, which spreadsheets show as text. Numbers are written as they are: they come from the
 * origin, not from a user, and `-5` must stay a number.
 */
export function toCsv(rows: readonly (readonly Cell[])[]): string {
  return BOM + rows.map((row) => `${row.map(field).join(',')}\r\n`).join('');
}

function field(cell: Cell): string {
  if (typeof cell === 'number') return String(cell);
  const text = FORMULA_START.test(cell) ? `'${cell}` : cell;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * A file name that is safe in `Content-Disposition` and on every file system: ASCII letters and
 * digits in words joined by `-`, from a display name (accents dropped), or `fallback`.
 */
export function safeFileName(name: string, fallback: string): string {
  const words = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
  const joined = words.join('-').slice(0, 60).replace(/-+$/, '');
  return joined === '' ? fallback : joined;
}
