import type { Download } from '../api/client.ts';

/** Long enough for any browser to have started reading the file; the URL holds it in memory. */
const KEEP_URL_MS = 60_000;

/**
 * Hands a fetched file to the browser's downloads, as a link with `download` would: a fetch can
 * send the admin token, a link cannot. The object URL is a blob: URL of this page's own origin, and
 * following a link is not something the page's CSP restricts.
 */
export function saveFile({ blob, fileName }: Download): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  try {
    link.click();
  } finally {
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), KEEP_URL_MS);
  }
}
