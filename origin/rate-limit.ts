import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * A token bucket per client: `burst` actions at once, refilled at `perSecond`. Buckets that have
 * refilled completely carry no information and are dropped, so memory follows active clients.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `key`; when none is left, says how many seconds until one is. */
  take(key: string): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const now = this.now();
    this.sweep(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(
      this.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond,
    );
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond)),
    };
  }

  private sweep(now: number): void {
    const full = (this.burst / this.perSecond) * 1000;
    if (now - this.lastSweep < full) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.at >= full) this.buckets.delete(key);
    }
  }
}

/**
 * The bucket a client address counts against. IPv4 is the address itself, also when written as
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`, which a dual-stack socket reports). IPv6 is its /64: that is
 * what one subscriber usually gets, so hopping between addresses inside it does not buy a fresh
 * bucket. Anything that is not an address is its own bucket.
 */
export function clientKey(ip: string | undefined): string {
  if (ip === undefined) return 'unknown';
  const address = parseAddress(ip);
  if (address === undefined) return ip;
  if (address instanceof ipaddr.IPv4) return address.toString();
  const prefix = address.parts.slice(0, 4).map((part) => part.toString(16));
  return `${prefix.join(':')}::/64`;
}

function parseAddress(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const address = ip.replace(/%.*$/, ''); // without a zone (fe80::1%eth0)
  // Node decides what an address is: ipaddr.js also reads `1` as 0.0.0.1 and `0x7f.1` as IPv4.
  const version = isIP(address);
  if (version === 0) return undefined;
  try {
    // ipaddr.js 1.x cannot read a dotted quad right after `::` (64:ff9b::192.0.2.1); the URL
    // parser writes every IPv6 address in hex groups.
    return ipaddr.process(
      version === 6 ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address,
    );
  } catch {
    // Whatever Node and these parsers disagree on is its own bucket, never a failed request.
    return undefined;
  }
}
