// Rate limits: one token bucket per WebSocket connection (agent and live sockets) and one per
// client IP for HTTP. Over the limit a frame is dropped with a `rate_limited` error frame and a
// request gets 429 with Retry-After; a peer that keeps going over is closed (1008).
//
// Limits (frames, not bytes: size is bounded separately by maxPayload):
//   agent socket  500 frames/s sustained, burst 1000. An honest agent keeps at most its window
//                 (64 by default) of batches unacked, and a backlog replay sends a few hundred
//                 batches/s, so it stays well inside. A frame that is over the limit is
//                 dropped with an error frame carrying its seq; after 500 more dropped frames
//                 (refilled at 50/s) the connection is closed with 1008.
//   live socket   subscribe frames: 10/s, burst 20; close after 100 dropped (refilled at 5/s).
//   HTTP          per IP, 50 requests/s, burst 200; 429.
//   upgrades      WebSocket upgrades per IP, their own budget: 100/s, burst 1000, so a fleet
//                 behind one NAT address can reconnect at once after a hub restart; a storm
//                 larger than that is spread out (agents retry with backoff after a 429).
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export interface BucketLimit {
  /** Tokens added per second (the sustained rate). */
  ratePerS: number;
  /** Bucket size (the largest burst). */
  burst: number;
}

export interface SocketLimit extends BucketLimit {
  /** Frames dropped for the limit that a connection may accumulate before it is closed (1008). */
  dropAllowance: BucketLimit;
}

export interface HubLimits {
  agent: SocketLimit;
  live: SocketLimit;
  http: BucketLimit;
  upgrade: BucketLimit;
}

export const DEFAULT_LIMITS: HubLimits = {
  agent: { ratePerS: 500, burst: 1000, dropAllowance: { ratePerS: 50, burst: 500 } },
  live: { ratePerS: 10, burst: 20, dropAllowance: { ratePerS: 5, burst: 100 } },
  http: { ratePerS: 50, burst: 200 },
  upgrade: { ratePerS: 100, burst: 1000 },
};

/** Merges overrides (e.g. from tests) onto the defaults, one level deep per part. */
export function resolveLimits(over: Partial<HubLimits> | undefined): HubLimits {
  return {
    agent: { ...DEFAULT_LIMITS.agent, ...over?.agent },
    live: { ...DEFAULT_LIMITS.live, ...over?.live },
    http: { ...DEFAULT_LIMITS.http, ...over?.http },
    upgrade: { ...DEFAULT_LIMITS.upgrade, ...over?.upgrade },
  };
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly limit: BucketLimit,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = limit.burst;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    const elapsed = Math.max(0, t - this.last);
    this.last = t;
    this.tokens = Math.min(this.limit.burst, this.tokens + (elapsed * this.limit.ratePerS) / 1000);
  }

  /** Takes one token if there is one. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whole seconds until one token is available (for Retry-After); 0 when one is. */
  retryAfterS(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.limit.ratePerS);
  }

  /** True when the bucket is full again (an idle entry that can be forgotten). */
  full(): boolean {
    this.refill();
    return this.tokens >= this.limit.burst;
  }
}

export type FrameVerdict = 'ok' | 'drop' | 'close';

/** Per-connection frame limiter: ok, drop (send an error), or close (persistent abuse). */
export class FrameLimiter {
  private readonly frames: TokenBucket;
  private readonly drops: TokenBucket;
  dropped = 0;

  constructor(limit: SocketLimit, now: () => number = Date.now) {
    this.frames = new TokenBucket(limit, now);
    this.drops = new TokenBucket(limit.dropAllowance, now);
  }

  check(): FrameVerdict {
    if (this.frames.take()) return 'ok';
    this.dropped++;
    return this.drops.take() ? 'drop' : 'close';
  }
}

/**
 * Lets through a few log lines per window and counts the rest, so a peer sending garbage
 * cannot flood the hub's log. `allow()` returns the number suppressed since the last line
 * that got through (to log with it), or -1 when this line is to be suppressed.
 */
export class LogThrottle {
  private readonly bucket: TokenBucket;
  private suppressed = 0;

  constructor(limit: BucketLimit = { ratePerS: 0.5, burst: 5 }, now: () => number = Date.now) {
    this.bucket = new TokenBucket(limit, now);
  }

  allow(): number {
    if (!this.bucket.take()) {
      this.suppressed++;
      return -1;
    }
    const n = this.suppressed;
    this.suppressed = 0;
    return n;
  }
}

/** How many idle IPs to remember before sweeping out the ones whose bucket is full again. */
const MAX_TRACKED_IPS = 10_000;

/** Per-IP token buckets (keyed by the socket's address: X-Forwarded-For is not trusted). */
export class IpLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly limit: BucketLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** 0 when the request may go ahead, else the seconds to wait. */
  take(ip: string): number {
    let bucket = this.buckets.get(ip);
    if (!bucket) {
      if (this.buckets.size >= MAX_TRACKED_IPS) this.sweep();
      bucket = new TokenBucket(this.limit, this.now);
      this.buckets.set(ip, bucket);
    }
    return bucket.take() ? 0 : Math.max(1, bucket.retryAfterS());
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(): void {
    for (const [ip, bucket] of this.buckets) if (bucket.full()) this.buckets.delete(ip);
    // Still full of busy IPs (a spread-out flood): forget the oldest half rather than grow.
    if (this.buckets.size >= MAX_TRACKED_IPS) {
      let n = this.buckets.size / 2;
      for (const ip of this.buckets.keys()) {
        if (n-- <= 0) break;
        this.buckets.delete(ip);
      }
    }
  }

  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const wait = this.take(req.socket.remoteAddress ?? 'unknown');
      if (wait === 0) return next();
      res.setHeader('Retry-After', String(wait));
      res.status(429).json({ error: `too many requests from this address; retry in ${wait} s` });
    };
  }
}
