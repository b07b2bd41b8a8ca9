// Webhook signatures (the Stripe / Standard Webhooks convention): every POST carries
// `X-Edgewatch-Timestamp: <unix seconds>` and `X-Edgewatch-Signature: v1=<hex HMAC-SHA256 of
// "<timestamp>.<raw body>">` keyed with the hub's secret (`whsec_…`, the whole string is the key).
// Pure functions: the deliverer signs, receivers (and the tests) verify.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-edgewatch-timestamp';
export const SIGNATURE_HEADER = 'x-edgewatch-signature';
export const SECRET_PREFIX = 'whsec_';
/** How far a timestamp may be from the receiver's clock, seconds. */
export const DEFAULT_TOLERANCE_S = 300;

/** A new secret: 32 random bytes, base64url, prefixed `whsec_`. */
export function newSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

function hmacHex(secret: string, body: string | Uint8Array, timestampS: number): string {
  return createHmac('sha256', secret).update(`${timestampS}.`).update(body).digest('hex');
}

/** The two headers for one POST of `body` (the exact bytes sent) at `timestampS`. */
export function signWebhook(secret: string, body: string | Uint8Array, timestampS: number): Record<'X-Edgewatch-Timestamp' | 'X-Edgewatch-Signature', string> {
  const ts = Math.floor(timestampS);
  return { 'X-Edgewatch-Timestamp': String(ts), 'X-Edgewatch-Signature': `v1=${hmacHex(secret, body, ts)}` };
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };
type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : bag[key];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Checks a received POST: `body` is the raw body as received, `nowS` the receiver's clock.
 * Refuses a missing or malformed header, a timestamp more than `toleranceS` away (replay), and a
 * signature that does not match (constant-time comparison).
 */
export function verifyWebhook(secret: string, body: string | Uint8Array, headers: HeaderBag, nowS: number, toleranceS = DEFAULT_TOLERANCE_S): VerifyResult {
  const ts = header(headers, TIMESTAMP_HEADER);
  const sig = header(headers, SIGNATURE_HEADER);
  if (ts === undefined) return { ok: false, reason: 'missing X-Edgewatch-Timestamp header' };
  if (sig === undefined) return { ok: false, reason: 'missing X-Edgewatch-Signature header' };
  if (!/^\d{1,12}$/.test(ts.trim())) return { ok: false, reason: 'malformed X-Edgewatch-Timestamp header: expected unix seconds' };
  const timestampS = Number(ts.trim());
  if (Math.abs(nowS - timestampS) > toleranceS) return { ok: false, reason: `timestamp outside the tolerance of ${toleranceS} s` };
  // Several space-separated `v1=` values are accepted (room for a future key overlap).
  const candidates = sig
    .trim()
    .split(/\s+/)
    .map((part) => /^v1=([0-9a-f]{64})$/i.exec(part)?.[1]?.toLowerCase())
    .filter((v): v is string => v !== undefined);
  if (candidates.length === 0) return { ok: false, reason: 'malformed X-Edgewatch-Signature header: expected v1=<64 hex digits>' };
  const expected = Buffer.from(hmacHex(secret, body, timestampS), 'hex');
  let match = false;
  for (const c of candidates) if (timingSafeEqual(Buffer.from(c, 'hex'), expected)) match = true;
  return match ? { ok: true } : { ok: false, reason: 'signature mismatch' };
}
