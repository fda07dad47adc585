/**
 * Prints what the origin and Caddy must trust to read a client's address behind Fastly: Fastly's
 * published address ranges (https://api.fastly.com/public-ip-list, no token needed), plus what sits
 * between Fastly and the origin on our side (by default `loopback`: Caddy on the same host).
 *
 *   node --import tsx deploy/fastly-trust-proxy.ts                  # the TRUST_PROXY value
 *   node --import tsx deploy/fastly-trust-proxy.ts --format caddy   # ranges, space-separated
 *   node --import tsx deploy/fastly-trust-proxy.ts --format env     # an EnvironmentFile for both
 *
 * Options: `--local <list>` replaces `loopback` (comma-separated, Express `trust proxy` syntax, e.g.
 * a load balancer's subnet); `--url <url>` reads the list elsewhere (a mirror). Nothing is written:
 * redirect the output, then restart the origin and reload Caddy (see docs/deploy.md).
 *
 * The list is checked before anything is printed: both arrays present, every entry a CIDR of the
 * right family, neither empty. A half-answer must never shrink what is trusted without a sound:
 * the origin would then take a Fastly address for the client and rate-limit a whole POP as one.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs as parseCommandLine } from 'node:util';
import ipaddr from 'ipaddr.js';
import { compile as compileTrust } from 'proxy-addr';

export const PUBLIC_IP_LIST_URL = 'https://api.fastly.com/public-ip-list';

/** What stands between Fastly and the origin on our side when nothing else is said: Caddy. */
export const DEFAULT_LOCAL = ['loopback'];

/** The part of `fetch` this uses; injectable so tests serve a fixture from a local server. */
export type Fetch = (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;

/** Fastly's ranges, checked: IPv4 CIDRs from `addresses`, IPv6 CIDRs from `ipv6_addresses`. */
export interface FastlyRanges {
  ipv4: string[];
  ipv6: string[];
}

export class RangesError extends Error {
  override name = 'RangesError';
}

/** Checks the JSON of `public-ip-list` (`{"addresses": [...], "ipv6_addresses": [...]}`). */
export function parsePublicIpList(body: unknown): FastlyRanges {
  if (typeof body !== 'object' || body === null) {
    throw new RangesError('the answer is not a JSON object');
  }
  const { addresses, ipv6_addresses } = body as Record<string, unknown>;
  return {
    ipv4: cidrList('addresses', addresses, 'ipv4'),
    ipv6: cidrList('ipv6_addresses', ipv6_addresses, 'ipv6'),
  };
}

function cidrList(field: string, value: unknown, kind: 'ipv4' | 'ipv6'): string[] {
  if (!Array.isArray(value)) throw new RangesError(`"${field}" is missing or not an array`);
  if (value.length === 0) throw new RangesError(`"${field}" is empty`);
  return value.map((entry) => {
    if (typeof entry !== 'string') throw new RangesError(`"${field}" holds a non-string entry`);
    let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
    try {
      parsed = ipaddr.parseCIDR(entry);
    } catch {
      throw new RangesError(`"${field}" holds "${entry}", which is not a CIDR range`);
    }
    if (parsed[0].kind() !== kind) {
      throw new RangesError(`"${field}" holds "${entry}", which is not ${kind}`);
    }
    return entry;
  });
}

export interface FetchOptions {
  fetch?: Fetch | undefined;
  url?: string | undefined;
  timeoutMs?: number | undefined;
}

/** Fetches and checks Fastly's list; throws RangesError with what went wrong. */
export async function fetchFastlyRanges(options: FetchOptions = {}): Promise<FastlyRanges> {
  const url = options.url ?? PUBLIC_IP_LIST_URL;
  const doFetch: Fetch = options.fetch ?? ((target, init) => fetch(target, init));
  let response: Response;
  try {
    response = await doFetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 15_000) });
  } catch (error) {
    throw new RangesError(`fetching ${url} failed: ${messageOf(error)}`);
  }
  if (!response.ok) throw new RangesError(`${url} answered ${response.status}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    throw new RangesError(`${url} did not answer JSON: ${messageOf(error)}`);
  }
  try {
    return parsePublicIpList(body);
  } catch (error) {
    throw new RangesError(`${url}: ${messageOf(error)}`);
  }
}

/** The origin's TRUST_PROXY: our own proxies first, then every Fastly range (proxy-addr syntax). */
export function trustProxyValue(ranges: FastlyRanges, local: readonly string[] = DEFAULT_LOCAL) {
  return [...local, ...ranges.ipv4, ...ranges.ipv6].join(',');
}

/** Caddy's `trusted_proxies` takes one range per argument: space-separated, Fastly's only. */
export function caddyTrustedProxies(ranges: FastlyRanges): string {
  return [...ranges.ipv4, ...ranges.ipv6].join(' ');
}

/**
 * One systemd EnvironmentFile for both services: the origin reads TRUST_PROXY, Caddy
 * FASTLY_ADDRESSES (quoted: systemd keeps the spaces, Caddy splits `{$FASTLY_ADDRESSES}` on them).
 */
export function envFile(
  ranges: FastlyRanges,
  local: readonly string[] = DEFAULT_LOCAL,
  source = PUBLIC_IP_LIST_URL,
): string {
  return [
    `# Fastly's address ranges, from ${source} (deploy/fastly-trust-proxy.ts).`,
    '# Regenerate it, then restart the origin and reload Caddy: see docs/deploy.md.',
    `TRUST_PROXY=${trustProxyValue(ranges, local)}`,
    `FASTLY_ADDRESSES="${caddyTrustedProxies(ranges)}"`,
    '',
  ].join('\n');
}

const FORMATS = ['trust-proxy', 'caddy', 'env'] as const;
type Format = (typeof FORMATS)[number];

interface Args {
  format: Format;
  local: string[];
  url: string;
}

const USAGE =
  'usage: node --import tsx deploy/fastly-trust-proxy.ts ' +
  '[--format trust-proxy|caddy|env] [--local loopback,...] [--url <public-ip-list url>]';

export function parseArgs(argv: readonly string[]): Args {
  let values: { format?: string | undefined; local?: string | undefined; url?: string | undefined };
  try {
    ({ values } = parseCommandLine({
      args: [...argv],
      options: { format: { type: 'string' }, local: { type: 'string' }, url: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new RangesError(messageOf(error));
  }
  const format = values.format ?? 'trust-proxy';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new RangesError(`--format is one of ${FORMATS.join(', ')}`);
  }
  return {
    format: format as Format,
    local: values.local === undefined ? DEFAULT_LOCAL : localProxies(values.local),
    url: values.url ?? PUBLIC_IP_LIST_URL,
  };
}

/** `--local`: checked by proxy-addr, Express's own parser, as the origin checks TRUST_PROXY. */
function localProxies(value: string): string[] {
  const entries = value.split(',').map((entry) => entry.trim());
  try {
    compileTrust(entries);
  } catch (error) {
    throw new RangesError(`--local: ${messageOf(error)}`);
  }
  return entries;
}

export interface MainIo {
  fetch?: Fetch | undefined;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The command line: prints the asked format on stdout; 0 when printed, 1 otherwise. */
export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  try {
    const args = parseArgs(argv);
    const ranges = await fetchFastlyRanges({ fetch: io.fetch, url: args.url });
    if (args.format === 'caddy') io.stdout(`${caddyTrustedProxies(ranges)}\n`);
    else if (args.format === 'env') io.stdout(envFile(ranges, args.local, args.url));
    else io.stdout(`${trustProxyValue(ranges, args.local)}\n`);
    return 0;
  } catch (error) {
    io.stderr(`fastly-trust-proxy: ${messageOf(error)}\n${USAGE}\n`);
    return 1;
  }
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  }).then((code) => {
    process.exitCode = code;
  });
}
