import * as z from 'zod/mini';
import { boardViewSchema } from './board.ts';

/**
 * A board's results to download: `GET /boards/:id/export/` (admin) as CSV (the default) or JSON.
 * The CSV has a header row and one row per player in rank order, ties sharing a rank; it is UTF-8
 * with a byte-order mark, RFC 4180 quoting, and text that a spreadsheet would run as a formula
 * prefixed with an apostrophe.
 */
export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The CSV's columns, in order (its header row). */
export const CSV_COLUMNS = ['rank', 'name', 'score', 'id'] as const;

/** `GET /boards/:id/export/?format=csv|json`. */
export const exportQuery = z.strictObject({
  format: z._default(z.enum(EXPORT_FORMATS), 'csv'),
});

/** The JSON export: the whole board in rank order, and when it was taken. */
export const boardExportSchema = z.object({
  exportedAt: z.iso.datetime(),
  board: boardViewSchema,
});
export type BoardExport = z.infer<typeof boardExportSchema>;
