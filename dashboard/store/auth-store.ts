// Credentials tables (migration 6): device and API tokens, users, sessions. Reached as
// `store.auth`; every statement is prepared once and takes parameters. Secrets never come
// here: only their hashes.
import type { Database as Db, Statement } from 'better-sqlite3';

export interface DeviceTokenRow {
  id: string;
  deviceId: string;
  secretHash: string;
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface ApiTokenRow {
  id: string;
  name: string;
  secretHash: string;
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface UserRow {
  name: string;
  passwordHash: string;
  createdAt: number;
}

export interface SessionRow {
  idHash: string;
  user: string;
  createdAt: number;
  expiresAt: number;
}

const DEVICE_COLS = 'id, device_id AS deviceId, secret_hash AS secretHash, created_at AS createdAt, revoked_at AS revokedAt, last_used_at AS lastUsedAt';
const API_COLS = 'id, name, secret_hash AS secretHash, created_at AS createdAt, revoked_at AS revokedAt, last_used_at AS lastUsedAt';

export class AuthStore {
  private readonly s: Record<string, Statement>;

  constructor(db: Db) {
    this.s = {
      insertDeviceToken: db.prepare('INSERT INTO device_tokens (id, device_id, secret_hash, created_at) VALUES (?, ?, ?, ?)'),
      deviceToken: db.prepare(`SELECT ${DEVICE_COLS} FROM device_tokens WHERE id = ?`),
      deviceTokens: db.prepare(`SELECT ${DEVICE_COLS} FROM device_tokens ORDER BY created_at, id`),
      revokeDeviceToken: db.prepare('UPDATE device_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      touchDeviceToken: db.prepare('UPDATE device_tokens SET last_used_at = ? WHERE id = ?'),
      insertApiToken: db.prepare('INSERT INTO api_tokens (id, name, secret_hash, created_at) VALUES (?, ?, ?, ?)'),
      apiToken: db.prepare(`SELECT ${API_COLS} FROM api_tokens WHERE id = ?`),
      apiTokens: db.prepare(`SELECT ${API_COLS} FROM api_tokens ORDER BY created_at, id`),
      revokeApiToken: db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      touchApiToken: db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?'),
      user: db.prepare('SELECT name, password_hash AS passwordHash, created_at AS createdAt FROM users WHERE name = ?'),
      userCount: db.prepare('SELECT COUNT(*) FROM users').pluck(),
      deleteUser: db.prepare('DELETE FROM users WHERE name = ?'),
      setPassword: db.prepare(
        'INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash',
      ),
      insertSession: db.prepare('INSERT INTO sessions (id_hash, user, created_at, expires_at) VALUES (?, ?, ?, ?)'),
      session: db.prepare('SELECT id_hash AS idHash, user, created_at AS createdAt, expires_at AS expiresAt FROM sessions WHERE id_hash = ?'),
      deleteSession: db.prepare('DELETE FROM sessions WHERE id_hash = ?'),
      deleteUserSessions: db.prepare('DELETE FROM sessions WHERE user = ?'),
      deleteExpiredSessions: db.prepare('DELETE FROM sessions WHERE expires_at <= ?'),
    };
  }

  insertDeviceToken(id: string, deviceId: string, secretHash: string, now: number): void {
    this.s.insertDeviceToken!.run(id, deviceId, secretHash, now);
  }

  deviceToken(id: string): DeviceTokenRow | undefined {
    return this.s.deviceToken!.get(id) as DeviceTokenRow | undefined;
  }

  deviceTokens(): DeviceTokenRow[] {
    return this.s.deviceTokens!.all() as DeviceTokenRow[];
  }

  /** True when a live token was revoked now. */
  revokeDeviceToken(id: string, now: number): boolean {
    return this.s.revokeDeviceToken!.run(now, id).changes > 0;
  }

  touchDeviceToken(id: string, now: number): void {
    this.s.touchDeviceToken!.run(now, id);
  }

  insertApiToken(id: string, name: string, secretHash: string, now: number): void {
    this.s.insertApiToken!.run(id, name, secretHash, now);
  }

  apiToken(id: string): ApiTokenRow | undefined {
    return this.s.apiToken!.get(id) as ApiTokenRow | undefined;
  }

  apiTokens(): ApiTokenRow[] {
    return this.s.apiTokens!.all() as ApiTokenRow[];
  }

  revokeApiToken(id: string, now: number): boolean {
    return this.s.revokeApiToken!.run(now, id).changes > 0;
  }

  touchApiToken(id: string, now: number): void {
    this.s.touchApiToken!.run(now, id);
  }

  user(name: string): UserRow | undefined {
    return this.s.user!.get(name) as UserRow | undefined;
  }

  userCount(): number {
    return this.s.userCount!.get() as number;
  }

  /** Creates the user or replaces its password. */
  setPassword(name: string, passwordHash: string, now: number): void {
    this.s.setPassword!.run(name, passwordHash, now);
  }

  /** Deletes a user (its sessions go with it: ON DELETE CASCADE). True when there was one. */
  deleteUser(name: string): boolean {
    return this.s.deleteUser!.run(name).changes > 0;
  }

  insertSession(idHash: string, user: string, now: number, expiresAt: number): void {
    this.s.insertSession!.run(idHash, user, now, expiresAt);
  }

  session(idHash: string): SessionRow | undefined {
    return this.s.session!.get(idHash) as SessionRow | undefined;
  }

  deleteSession(idHash: string): void {
    this.s.deleteSession!.run(idHash);
  }

  deleteUserSessions(user: string): number {
    return this.s.deleteUserSessions!.run(user).changes;
  }

  deleteExpiredSessions(now: number): number {
    return this.s.deleteExpiredSessions!.run(now).changes;
  }
}
