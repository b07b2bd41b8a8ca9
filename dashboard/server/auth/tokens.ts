// Bearer tokens. A device token (`ewd_…`) lets one agent stream as one device id; an API
// token (`ewa_…`) lets a script use the REST API and the live socket. Format:
//   ewd_<id>_<secret>   id: 12 hex chars, the row to look up (shown by `token list`);
//                       secret: 32 random bytes, base64url (43 chars), shown once at creation.
// Only sha256(secret) is stored. A fast hash is right here: the secret is 256 random bits, so
// there is nothing to brute-force or look up in a dictionary, and a slow hash (scrypt) would
// only cost CPU on every agent connection and API call. Passwords, chosen by people, are
// another matter: see password.ts.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type TokenKind = 'device' | 'api';

const PREFIX: Record<TokenKind, string> = { device: 'ewd', api: 'ewa' };
const TOKEN_RE = /^(ewd|ewa)_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface ParsedToken {
  kind: TokenKind;
  id: string;
  secret: string;
}

export interface NewToken extends ParsedToken {
  /** The whole token, to hand to the user once. */
  token: string;
  secretHash: string;
}

export function newToken(kind: TokenKind): NewToken {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { kind, id, secret, token: `${PREFIX[kind]}_${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The parts of a well-formed token, or null. */
export function parseToken(raw: string): ParsedToken | null {
  const m = TOKEN_RE.exec(raw.trim());
  if (!m) return null;
  return { kind: m[1] === 'ewd' ? 'device' : 'api', id: m[2]!, secret: m[3]! };
}

/** sha256 of a high-entropy secret, hex. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * True when `secret` hashes to `storedHash`. Compared with timingSafeEqual so the time taken
 * does not tell how many leading bytes matched; a malformed stored hash is simply false.
 */
export function verifySecret(secret: string, storedHash: string): boolean {
  const actual = createHash('sha256').update(secret, 'utf8').digest();
  const expected = /^[0-9a-f]{64}$/.test(storedHash) ? Buffer.from(storedHash, 'hex') : null;
  if (!expected) return false;
  return timingSafeEqual(actual, expected);
}

/** `ewd_<id>_…`: safe to print or log (the secret is left out). */
export function redactToken(raw: string): string {
  const parsed = parseToken(raw);
  if (parsed) return `${PREFIX[parsed.kind]}_${parsed.id}_…`;
  return raw.length > 0 ? '(not an edgewatch token)…' : '';
}

/** Value of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m ? m[1] : undefined;
}
