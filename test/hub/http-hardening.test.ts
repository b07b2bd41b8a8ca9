// The hub's HTTP surface against hostile requests: security headers on every response, the
// per-IP rate limit (429 + Retry-After), and no file outside the web root however the path is
// spelled.
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { silentLogger } from '../../shared/log.js';
import { tempDir } from '../helpers/temp-dir.js';

const SECRET = 'TOP-SECRET-edgewatch-canary';

/** GET with the path sent exactly as written (fetch would normalise the dots away). */
function rawGet(port: number, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('hub HTTP hardening', () => {
  let hub: Hub;
  let limited: Hub;
  let tmp: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    tmp = tempDir('edgewatch-http-');
    const webRoot = join(tmp.dir, 'srv', 'web');
    mkdirSync(join(webRoot, 'static'), { recursive: true });
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>ok</title>');
    writeFileSync(join(webRoot, 'static', 'app.js'), 'console.log(1)');
    // Canaries outside the web root, at every level a traversal might reach.
    writeFileSync(join(tmp.dir, 'srv', 'secret.txt'), SECRET);
    writeFileSync(join(tmp.dir, 'secret.txt'), SECRET);
    writeFileSync(join(webRoot, '.env'), SECRET);
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: join(tmp.dir, 'data'), webRoot, log: silentLogger() });
    limited = await startHub({
      port: 0,
      host: '127.0.0.1',
      dataDir: join(tmp.dir, 'data2'),
      webRoot,
      log: silentLogger(),
      limits: { http: { ratePerS: 5, burst: 10 }, upgrade: { ratePerS: 2, burst: 3 } },
    });
  });
  afterAll(async () => {
    await hub.close();
    await limited.close();
    tmp.remove();
  });

  it('sends the CSP and the other security headers on pages, API answers and errors', async () => {
    // Express's own 404 page sends the stricter `default-src 'none'`; the rest is ours.
    const notFound = await rawGet(hub.port, '/no-such-file');
    expect(notFound.status).toBe(404);
    expect(notFound.headers['content-security-policy']).toBe("default-src 'none'");
    expect(notFound.headers['x-content-type-options']).toBe('nosniff');
    expect(notFound.headers['x-powered-by']).toBeUndefined();
    for (const path of ['/', '/static/app.js', '/api/v1/catalog', '/api/nope', '/healthz', '/api/v1/devices/x/series']) {
      const res = await rawGet(hub.port, path);
      const csp = String(res.headers['content-security-policy']);
      for (const d of [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ]) {
        expect(csp, path).toContain(d);
      }
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-powered-by']).toBeUndefined();
      // Plain HTTP: no HSTS (it would pin a LAN address to HTTPS that is not there).
      expect(res.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('never serves a file outside the web root', async () => {
    const paths = [
      '/..%2f..%2fsecret.txt',
      '/..%2f..%2f..%2fetc%2fpasswd',
      '/..%2F..%2Fsecret.txt',
      '/%2e%2e/%2e%2e/secret.txt',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/%2E%2E%2F%2E%2E%2Fsecret.txt',
      '/static/../../secret.txt',
      '/static/../../../secret.txt',
      '/static/..%2f..%2fsecret.txt',
      '/static/%2e%2e/%2e%2e/secret.txt',
      '/../secret.txt',
      '/../../secret.txt',
      '/..\\..\\secret.txt',
      '/..%5c..%5csecret.txt',
      '/%252e%252e/%252e%252e/secret.txt',
      '/..%c0%af..%c0%afsecret.txt',
      '/static/..%00/secret.txt',
      '/secret.txt%00.html',
      '/.env',
      '/%2eenv',
      '//etc/passwd',
      '/static//../../secret.txt',
      '/api/v1/experiments/..%2f..%2fsecret.txt',
      '/api/v1/experiments/compare?ids=..%2f..%2fsecret.txt&format=csv',
      '/api/v1/experiments/compare?ids=..,.&format=md',
      '/api/v1/devices/..%2f..%2fsecret.txt/series?metrics=cpu.util',
      '/api/../secret.txt',
      '/api/v1/../../secret.txt',
    ];
    for (const path of paths) {
      const res = await rawGet(hub.port, path);
      expect(res.body, path).not.toContain(SECRET);
      expect(res.body, path).not.toMatch(/root:.*:0:0:/);
      expect([400, 403, 404], `${path} → ${res.status}`).toContain(res.status);
    }
    // The web root itself is still served.
    expect((await rawGet(hub.port, '/static/app.js')).body).toBe('console.log(1)');
    expect((await rawGet(hub.port, '/static/../static/app.js')).status).toBe(200);
  });

  it('answers a flood from one address with 429 and Retry-After, and recovers', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, () => rawGet(limited.port, '/api/v1/catalog')));
    const ok = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 429);
    expect(ok).toBeGreaterThanOrEqual(10);
    expect(ok).toBeLessThan(15);
    expect(refused.length).toBeGreaterThan(10);
    expect(Number(refused[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(refused[0]!.body)).toMatchObject({ error: expect.stringMatching(/too many requests/) });
    // WebSocket upgrades have their own, larger budget (a fleet reconnecting at once): 3 here.
    const upgrade = () => new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port: limited.port, path: '/ws/live', headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' } });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(-1));
      req.end();
    });
    const upgrades = [await upgrade(), await upgrade(), await upgrade(), await upgrade()];
    expect(upgrades.slice(0, 3).every((code) => code === 101)).toBe(true);
    expect(upgrades[3]).toBe(429);
    // 5/s refills: a second later requests go through again.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await rawGet(limited.port, '/api/v1/catalog')).status).toBe(200);
    // Another hub (another limiter) was never affected.
    expect((await rawGet(hub.port, '/api/v1/catalog')).status).toBe(200);
  });
});
