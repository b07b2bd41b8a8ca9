// Authentication on a real in-process hub (auth: true): logins and sessions, API tokens, CSRF
// checks, device tokens on the agent socket (bound to one device id, revocable while connected),
// and what the database keeps (hashes only).
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Credentials } from '../../dashboard/server/auth/credentials.js';
import { hashPassword, verifyPassword } from '../../dashboard/server/auth/password.js';
import { hashSecret, newToken, parseToken, redactToken, verifySecret } from '../../dashboard/server/auth/tokens.js';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { silentLogger } from '../../shared/log.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';

interface Opened {
  socket: WebSocket;
  frames: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a WebSocket with headers; resolves when open, or with the refusal's status and body. */
function openWs(url: string, headers: Record<string, string> = {}): Promise<Opened | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    const frames: Record<string, unknown>[] = [];
    socket.on('message', (d) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
    const closed = new Promise<{ code: number; reason: string }>((r) => socket.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    socket.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
        socket.terminate();
      });
    });
    socket.on('open', () => resolve({ socket, frames, closed }));
    socket.on('error', (err) => {
      if (!/closed before the connection/.test(err.message)) reject(err);
    });
  });
}

async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('credential primitives', () => {
  it('tokens have the documented format and verify only against their own hash', () => {
    const t = newToken('device');
    expect(t.token).toMatch(/^ewd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(newToken('api').token).toMatch(/^ewa_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(parseToken(t.token)).toEqual({ kind: 'device', id: t.id, secret: t.secret });
    expect(parseToken('ewd_123_abc')).toBeNull();
    expect(t.secretHash).toBe(createHash('sha256').update(t.secret).digest('hex'));
    expect(hashSecret(t.secret)).toBe(t.secretHash);
    expect(verifySecret(t.secret, t.secretHash)).toBe(true);
    expect(verifySecret(newToken('device').secret, t.secretHash)).toBe(false);
    // Off by one character, and a malformed stored hash (wrong length): false, never a throw.
    expect(verifySecret(t.secret.slice(0, -1) + (t.secret.endsWith('A') ? 'B' : 'A'), t.secretHash)).toBe(false);
    expect(verifySecret(t.secret, t.secretHash.slice(2))).toBe(false);
    expect(verifySecret(t.secret, '')).toBe(false);
    expect(redactToken(t.token)).toBe(`ewd_${t.id}_…`);
  });

  it('the verify functions compare with crypto.timingSafeEqual', () => {
    // Behaviour is tested above; this pins the implementation choice so a refactor to === is caught.
    const root = join(__dirname, '../../dashboard/server/auth');
    for (const file of ['tokens.ts', 'password.ts']) {
      const src = readFileSync(join(root, file), 'utf8');
      expect(src, file).toMatch(/timingSafeEqual\(/);
      expect(src, file).not.toMatch(/(hash|key|expected)\s*===\s*/i);
    }
  });

  it('passwords are scrypt hashes with their parameters and a random salt', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horsE', a)).toBe(false);
    expect(await verifyPassword('correct horse', 'scrypt$1$1$1$x$y')).toBe(false);
  });
});

describe('hub with auth on', () => {
  let hub: Hub;
  let tmp: ReturnType<typeof tempDir>;
  let base: string;
  let creds: Credentials;
  let password: string;

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger(), auth: true });
    base = `http://127.0.0.1:${hub.port}`;
    creds = new Credentials(hub.store);
    expect(hub.initialLogin?.user).toBe('admin');
    password = hub.initialLogin!.password;
  });
  afterAll(async () => {
    await hub.close();
    tmp.remove();
  });

  const login = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const cookieOf = (res: Response) => res.headers.get('set-cookie')!.split(';')[0]!;

  it('creates admin with a random password at first start', () => {
    expect(password).toMatch(/^[2-9a-hjkmnp-z]{5}(-[2-9a-hjkmnp-z]{5}){3}$/);
  });

  it('refuses anonymous API calls with 401 and where to log in; /healthz and static files stay public', async () => {
    for (const path of ['/api/v1/devices', '/api/v1/catalog', '/api/v1/experiments', '/api/v1/session']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(401);
      expect(await res.json()).toEqual({ error: 'login required', login: '/api/v1/login' });
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/`)).status).not.toBe(401);
    const live = await openWs(`ws://127.0.0.1:${hub.port}/ws/live`);
    expect(live).toMatchObject({ status: 401 });
  });

  it('answers a wrong password with 401 after a delay', async () => {
    const started = Date.now();
    const res = await login({ user: 'admin', password: 'wrong' });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect((await login({ user: 'nobody', password })).status).toBe(401);
  });

  it('logs in with an HttpOnly SameSite=Strict cookie that opens the API and the live socket; logout ends it', async () => {
    const res = await login({ user: 'admin', password });
    expect(res.status).toBe(204);
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^ew_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toMatch(/Secure/); // plain HTTP here
    const cookie = cookieOf(res);
    expect((await fetch(`${base}/api/v1/devices`, { headers: { cookie } })).status).toBe(200);
    expect(await (await fetch(`${base}/api/v1/session`, { headers: { cookie } })).json()).toEqual({ user: 'admin' });

    const live = await openWs(`ws://127.0.0.1:${hub.port}/ws/live`, { cookie });
    expect('socket' in live).toBe(true);
    const viewer = live as Opened;
    await waitFor('snapshot', () => viewer.frames.find((f) => f.type === 'snapshot'));
    // From another origin, the same cookie does not open the live socket.
    expect(await openWs(`ws://127.0.0.1:${hub.port}/ws/live`, { cookie, origin: 'http://evil.example' })).toMatchObject({ status: 403 });

    const out = await fetch(`${base}/api/v1/logout`, { method: 'POST', headers: { cookie } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await fetch(`${base}/api/v1/devices`, { headers: { cookie } })).status).toBe(401);
    // The live socket opened with that session is closed by the periodic check.
    expect((await viewer.closed).code).toBe(4401);
  });

  it('takes the login as JSON only and from its own origin (CSRF)', async () => {
    const text = await fetch(`${base}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ user: 'admin', password }) });
    expect(text.status).toBe(415);
    const form = await fetch(`${base}/api/v1/login`, { method: 'POST', body: new URLSearchParams({ user: 'admin', password }) });
    expect(form.status).toBe(415);
    const foreign = await login({ user: 'admin', password }, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('set-cookie')).toBeNull();
    expect((await login({ user: 'admin', password }, { origin: base })).status).toBe(204);
    expect((await login('{"user": ')).status).toBe(400);
  });

  it('accepts an API token as a bearer token, and not once revoked', async () => {
    const { id, token } = creds.createApiToken('script');
    const auth = { authorization: `Bearer ${token}` };
    expect((await fetch(`${base}/api/v1/devices`, { headers: auth })).status).toBe(200);
    const wrong = `${token.slice(0, -2)}xx`;
    expect((await fetch(`${base}/api/v1/devices`, { headers: { authorization: `Bearer ${wrong}` } })).status).toBe(401);
    const live = await openWs(`ws://127.0.0.1:${hub.port}/ws/live`, auth);
    expect('socket' in live).toBe(true);
    (live as Opened).socket.close();
    // A device token is not an API token.
    const device = creds.createDeviceToken('dev-x');
    expect((await fetch(`${base}/api/v1/devices`, { headers: { authorization: `Bearer ${device.token}` } })).status).toBe(401);
    expect(creds.revokeToken(id)).toBe('revoked');
    expect((await fetch(`${base}/api/v1/devices`, { headers: auth })).status).toBe(401);
  });

  it('refuses an agent without a token or with a wrong one (401 on the upgrade, with the reason)', async () => {
    const url = hub.agentUrl;
    const none = await openWs(url);
    expect(none).toMatchObject({ status: 401 });
    expect((none as { body: string }).body).toMatch(/agent token required.*edgewatch token create/);
    const good = creds.createDeviceToken('dev-a');
    const forged = `${good.token.slice(0, -4)}AAAA`;
    const wrong = await openWs(url, { authorization: `Bearer ${forged}` });
    expect(wrong).toMatchObject({ status: 401 });
    expect((wrong as { body: string }).body).toMatch(/invalid/);
    expect(await openWs(url, { authorization: 'Bearer nonsense' })).toMatchObject({ status: 401 });
  });

  it('binds a device token to its device id: a hello for another gets an error frame and close 4401', async () => {
    const { token } = creds.createDeviceToken('dev-b');
    const peer = (await openWs(hub.agentUrl, { authorization: `Bearer ${token}` })) as Opened;
    peer.socket.send(JSON.stringify(helloFrame('dev-other')));
    const closed = await peer.closed;
    expect(closed.code).toBe(4401);
    expect(peer.frames.find((f) => f.type === 'error')).toMatchObject({ code: 'unauthorized' });
    expect(hub.store.getDevice('dev-other')).toBeUndefined();
  });

  it('streams with a valid token, and a token revoked while connected disconnects its agent within 5 s', async () => {
    const { id, token } = creds.createDeviceToken('dev-c');
    const auth = { authorization: `Bearer ${token}` };
    const peer = (await openWs(hub.agentUrl, auth)) as Opened;
    peer.socket.send(JSON.stringify(helloFrame('dev-c')));
    await waitFor('welcome', () => peer.frames.find((f) => f.type === 'welcome'));
    peer.socket.send(JSON.stringify({ type: 'batch', v: 1, seq: 1, samples: [{ t: Date.now(), m: { 'cpu.util': 5 } }] }));
    await waitFor('ack', () => peer.frames.find((f) => f.type === 'ack'));
    expect(hub.store.auth.deviceToken(id)!.lastUsedAt).not.toBeNull();

    const revokedAt = Date.now();
    expect(creds.revokeToken(id)).toBe('revoked');
    const closed = await peer.closed;
    expect(Date.now() - revokedAt).toBeLessThan(5000);
    expect(closed.code).toBe(4401);
    expect(peer.frames.find((f) => f.type === 'error')).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/revoked/) });
    const again = await openWs(hub.agentUrl, auth);
    expect(again).toMatchObject({ status: 401 });
    expect((again as { body: string }).body).toMatch(/revoked/);
  });

  it('keeps only hashes of secrets in the database', async () => {
    const device = creds.createDeviceToken('dev-d');
    const api = creds.createApiToken('hash-check');
    const res = await login({ user: 'admin', password });
    const sid = cookieOf(res).split('=')[1]!;
    const db = new Database(join(tmp.dir, 'edgewatch.db'), { readonly: true });
    try {
      const d = db.prepare('SELECT * FROM device_tokens WHERE id = ?').get(device.id) as Record<string, unknown>;
      expect(d.device_id).toBe('dev-d');
      expect(d.secret_hash).toBe(hashSecret(parseToken(device.token)!.secret));
      const a = db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(api.id) as Record<string, unknown>;
      expect(a.secret_hash).toBe(hashSecret(parseToken(api.token)!.secret));
      const u = db.prepare('SELECT * FROM users').all() as { name: string; password_hash: string }[];
      expect(u).toHaveLength(1);
      expect(u[0]!.password_hash).toMatch(/^scrypt\$/);
      expect(u[0]!.password_hash).not.toContain(password);
      const s = db.prepare('SELECT * FROM sessions').all() as { id_hash: string; expires_at: number; created_at: number }[];
      expect(s.map((r) => r.id_hash)).toContain(createHash('sha256').update(sid).digest('hex'));
      expect(s.find((r) => r.id_hash.includes(sid))).toBeUndefined();
      expect(s[0]!.expires_at - s[0]!.created_at).toBe(30 * 24 * 3_600_000);
      // No secret anywhere in the database file or its WAL.
      const bytes = Buffer.concat([readFileSync(join(tmp.dir, 'edgewatch.db')), readFileSync(join(tmp.dir, 'edgewatch.db-wal'))]).toString('latin1');
      for (const secret of [parseToken(device.token)!.secret, parseToken(api.token)!.secret, sid, password]) expect(bytes.includes(secret)).toBe(false);
    } finally {
      db.close();
    }
  });

  it('does not create another admin or show a password at the next start', async () => {
    await hub.close();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger(), auth: true });
    base = `http://127.0.0.1:${hub.port}`;
    creds = new Credentials(hub.store);
    expect(hub.initialLogin).toBeUndefined();
    expect((await login({ user: 'admin', password })).status).toBe(204);
  });
});

describe('hub with auth off (the in-process default)', () => {
  it('serves the API and takes agents without credentials, and has no initial login', async () => {
    const tmp = tempDir();
    const hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger() });
    try {
      expect(hub.auth).toBe(false);
      expect(hub.initialLogin).toBeUndefined();
      expect((await fetch(`http://127.0.0.1:${hub.port}/api/v1/devices`)).status).toBe(200);
      const peer = (await openWs(hub.agentUrl)) as Opened;
      peer.socket.send(JSON.stringify(helloFrame('dev-open')));
      await waitFor('welcome', () => peer.frames.find((f) => f.type === 'welcome'));
      peer.socket.close();
    } finally {
      await hub.close();
      tmp.remove();
    }
  });
});
