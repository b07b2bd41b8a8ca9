// Everything the hub and the CLI do with credentials, over store.auth: create, check, list and
// revoke tokens; the admin user and its password; sessions.
import type { Store } from '../../store/store.js';
import { generatePassword, hashPassword, verifyPassword } from './password.js';
import { hashSessionId, newSessionId, SESSION_TTL_MS } from './sessions.js';
import { newToken, parseToken, verifySecret, type TokenKind } from './tokens.js';

export const ADMIN_USER = 'admin';
/** last_used_at is written at most this often per token: not one write per API call. */
const TOUCH_EVERY_MS = 60_000;

export type DeviceTokenCheck = { ok: true; id: string; deviceId: string } | { ok: false; reason: string };
export type Principal = { kind: 'session'; user: string; sessionHash: string } | { kind: 'api-token'; id: string; name: string };

export interface TokenListing {
  id: string;
  kind: TokenKind;
  /** Device id (device tokens) or name (API tokens). */
  subject: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

let dummyHash: Promise<string> | undefined;

export class Credentials {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  private get db() {
    return this.store.auth;
  }

  /** A new device token for `deviceId`; the returned string is the only copy of the secret. */
  createDeviceToken(deviceId: string): { id: string; token: string } {
    const t = newToken('device');
    this.db.insertDeviceToken(t.id, deviceId, t.secretHash, this.now());
    return { id: t.id, token: t.token };
  }

  createApiToken(name: string): { id: string; token: string } {
    const t = newToken('api');
    this.db.insertApiToken(t.id, name, t.secretHash, this.now());
    return { id: t.id, token: t.token };
  }

  /** Checks an agent's bearer token; records when it was last used. */
  checkDeviceToken(raw: string | undefined): DeviceTokenCheck {
    if (!raw) return { ok: false, reason: 'missing' };
    const parsed = parseToken(raw);
    if (!parsed || parsed.kind !== 'device') return { ok: false, reason: 'invalid' };
    const row = this.db.deviceToken(parsed.id);
    if (!row || !verifySecret(parsed.secret, row.secretHash)) return { ok: false, reason: 'invalid' };
    if (row.revokedAt !== null) return { ok: false, reason: 'revoked' };
    this.touch(() => this.db.touchDeviceToken(row.id, this.now()), row.lastUsedAt);
    return { ok: true, id: row.id, deviceId: row.deviceId };
  }

  /** An API token's principal, or null. */
  checkApiToken(raw: string): Principal | null {
    const parsed = parseToken(raw);
    if (!parsed || parsed.kind !== 'api') return null;
    const row = this.db.apiToken(parsed.id);
    if (!row || row.revokedAt !== null || !verifySecret(parsed.secret, row.secretHash)) return null;
    this.touch(() => this.db.touchApiToken(row.id, this.now()), row.lastUsedAt);
    return { kind: 'api-token', id: row.id, name: row.name };
  }

  /** Whether a device token is still good (for the periodic check of connected agents). */
  deviceTokenActive(id: string): boolean {
    const row = this.db.deviceToken(id);
    return !!row && row.revokedAt === null;
  }

  /** Whether what authenticated a live socket still holds (session not ended, token not revoked). */
  stillValid(p: Principal): boolean {
    if (p.kind === 'api-token') {
      const row = this.db.apiToken(p.id);
      return !!row && row.revokedAt === null;
    }
    const row = this.db.session(p.sessionHash);
    return !!row && row.expiresAt > this.now();
  }

  listTokens(): TokenListing[] {
    const devices: TokenListing[] = this.db.deviceTokens().map((r) => ({
      id: r.id,
      kind: 'device',
      subject: r.deviceId,
      createdAt: r.createdAt,
      lastUsedAt: r.lastUsedAt,
      revokedAt: r.revokedAt,
    }));
    const apis: TokenListing[] = this.db.apiTokens().map((r) => ({
      id: r.id,
      kind: 'api',
      subject: r.name,
      createdAt: r.createdAt,
      lastUsedAt: r.lastUsedAt,
      revokedAt: r.revokedAt,
    }));
    return [...devices, ...apis].sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Revokes a token by id (either kind). 'revoked', 'already' (was revoked before) or 'unknown'. */
  revokeToken(id: string): 'revoked' | 'already' | 'unknown' {
    const now = this.now();
    if (this.db.deviceToken(id)) return this.db.revokeDeviceToken(id, now) ? 'revoked' : 'already';
    if (this.db.apiToken(id)) return this.db.revokeApiToken(id, now) ? 'revoked' : 'already';
    return 'unknown';
  }

  /** First start: creates `admin` with a random password and returns it; null when a user exists. */
  async ensureAdmin(): Promise<{ user: string; password: string } | null> {
    if (this.db.userCount() > 0) return null;
    return this.resetPassword(ADMIN_USER);
  }

  /**
   * Undoes ensureAdmin() for a start that failed before its password could be shown (the port
   * was taken, the agent could not start): deletes `admin` when it is the only user and was
   * created at or after `since`, so that the next start creates it again and prints that
   * password. True when it did. An admin from an earlier start is never touched.
   */
  forgetUnshownAdmin(since: number): boolean {
    if (this.db.userCount() !== 1) return false;
    const row = this.db.user(ADMIN_USER);
    if (!row || row.createdAt < since) return false;
    return this.db.deleteUser(ADMIN_USER);
  }

  /** Sets a new random password (creating the user if needed) and ends the user's sessions. */
  async resetPassword(user: string = ADMIN_USER): Promise<{ user: string; password: string }> {
    const password = generatePassword();
    this.db.setPassword(user, await hashPassword(password), this.now());
    this.db.deleteUserSessions(user);
    return { user, password };
  }

  /** True when the user exists and the password is its own. Unknown users cost the same scrypt. */
  async checkPassword(user: string, password: string): Promise<boolean> {
    const row = this.db.user(user);
    if (!row) {
      dummyHash ??= hashPassword(generatePassword());
      await verifyPassword(password, await dummyHash);
      return false;
    }
    return verifyPassword(password, row.passwordHash);
  }

  /** A new session for `user`: the id goes in the cookie, its hash in the database. */
  createSession(user: string): string {
    const id = newSessionId();
    const now = this.now();
    this.db.deleteExpiredSessions(now);
    this.db.insertSession(hashSessionId(id), user, now, now + SESSION_TTL_MS);
    return id;
  }

  sessionPrincipal(id: string): Principal | null {
    const idHash = hashSessionId(id);
    const row = this.db.session(idHash);
    if (!row || row.expiresAt <= this.now()) return null;
    return { kind: 'session', user: row.user, sessionHash: idHash };
  }

  endSession(id: string): void {
    this.db.deleteSession(hashSessionId(id));
  }

  private touch(write: () => void, last: number | null): void {
    if (last !== null && this.now() - last < TOUCH_EVERY_MS) return;
    try {
      write();
    } catch {
      // Best effort: a full or read-only disk must not lock agents and scripts out.
    }
  }
}
