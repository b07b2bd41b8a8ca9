// Signed webhooks: the pure sign/verify functions (a vector computed here with node:crypto, and
// each refusal with its reason), then end to end: a real hub rotates its secret through the API,
// an alert fires and resolves, and a real receiver on 127.0.0.1 checks every POST with
// verifyWebhook and with the README's Python snippet run by python3; after another rotation the
// old secret no longer verifies.
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '../../dashboard/server/alerts/webhook-signature.js';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import type { AlertRule, WebhookPayload } from '../../shared/alerts.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { eventually, REPO_ROOT } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';

const SECRET = 'whsec_dGVzdC1zZWNyZXQtZm9yLWVkZ2V3YXRjaC13ZWJob29rcw';
const BODY = '{"source":"edgewatch","state":"firing","value":91.5,"summary":"FIRING: caf\u00e9"}';
const TS = 1_700_000_000;

/** HMAC-SHA256 of "<ts>.<body>", hex: computed here independently of the module under test. */
const reference = (secret: string, ts: number, body: string): string => createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(`${ts}.${body}`, 'utf8')).digest('hex');

describe('signWebhook / verifyWebhook', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256, v1=<hex>, and verifies its own signature', () => {
    const headers = signWebhook(SECRET, BODY, TS);
    expect(headers['X-Edgewatch-Timestamp']).toBe(String(TS));
    expect(headers['X-Edgewatch-Signature']).toBe(`v1=${reference(SECRET, TS, BODY)}`);
    expect(headers['X-Edgewatch-Signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    // Bytes or string give the same signature; header names are matched without case.
    expect(signWebhook(SECRET, Buffer.from(BODY, 'utf8'), TS)).toEqual(headers);
    expect(verifyWebhook(SECRET, BODY, headers, TS)).toEqual({ ok: true });
    expect(verifyWebhook(SECRET, Buffer.from(BODY), new Headers(headers), TS + 299)).toEqual({ ok: true });
    expect(verifyWebhook(SECRET, BODY, { 'x-edgewatch-timestamp': String(TS), 'x-edgewatch-signature': `v1=${'0'.repeat(64)} ${headers['X-Edgewatch-Signature']}` }, TS)).toEqual({ ok: true });
  });

  it('refuses a wrong secret, a tampered body, an old timestamp and malformed headers, each with its reason', () => {
    const headers = signWebhook(SECRET, BODY, TS);
    expect(verifyWebhook(`${SECRET}x`, BODY, headers, TS)).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifyWebhook(SECRET, BODY.replace('91.5', '11.5'), headers, TS)).toEqual({ ok: false, reason: 'signature mismatch' });
    // The timestamp is signed: moving it breaks the signature.
    expect(verifyWebhook(SECRET, BODY, { ...headers, 'X-Edgewatch-Timestamp': String(TS + 1) }, TS)).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifyWebhook(SECRET, BODY, headers, TS + 301)).toEqual({ ok: false, reason: 'timestamp outside the tolerance of 300 s' });
    expect(verifyWebhook(SECRET, BODY, headers, TS - 301)).toEqual({ ok: false, reason: 'timestamp outside the tolerance of 300 s' });
    expect(verifyWebhook(SECRET, BODY, headers, TS + 100, 60)).toEqual({ ok: false, reason: 'timestamp outside the tolerance of 60 s' });
    const refused = (h: Record<string, string>): string => {
      const r = verifyWebhook(SECRET, BODY, h, TS);
      if (r.ok) throw new Error('accepted');
      return r.reason;
    };
    expect(refused({ 'X-Edgewatch-Signature': headers['X-Edgewatch-Signature'] })).toMatch(/missing X-Edgewatch-Timestamp/);
    expect(refused({ 'X-Edgewatch-Timestamp': String(TS) })).toMatch(/missing X-Edgewatch-Signature/);
    expect(refused({ ...headers, 'X-Edgewatch-Timestamp': 'yesterday' })).toMatch(/malformed X-Edgewatch-Timestamp/);
    expect(refused({ ...headers, 'X-Edgewatch-Signature': reference(SECRET, TS, BODY) })).toMatch(/malformed X-Edgewatch-Signature/);
    expect(refused({ ...headers, 'X-Edgewatch-Signature': 'v1=abc' })).toMatch(/malformed X-Edgewatch-Signature/);
    expect(refused({ ...headers, 'X-Edgewatch-Signature': `v0=${reference(SECRET, TS, BODY)}` })).toMatch(/malformed X-Edgewatch-Signature/);
  });
});

// ---------------------------------------------------------------- end to end

interface Post {
  raw: Buffer;
  headers: IncomingHttpHeaders;
  body: WebhookPayload;
}

/** Records every POST's raw bytes and headers; answers `failNext` of them with 500 first. */
class Receiver {
  readonly posts: Post[] = [];
  failNext = 0;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        receiver.posts.push({ raw, headers: req.headers, body: JSON.parse(raw.toString('utf8')) as WebhookPayload });
        if (receiver.failNext > 0) {
          receiver.failNext--;
          res.writeHead(500).end('not now');
        } else res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function call<T = unknown>(hub: Hub, method: string, path: string, body?: unknown): Promise<{ status: number; text: string; body: T }> {
  const res = await fetch(`${hub.url}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: (text ? JSON.parse(text) : null) as T };
}

/** The python block between the webhook-verify markers in README.md, as shown there. */
function readmeSnippet(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const match = /<!-- webhook-verify:begin[^>]*-->\n```python\n([\s\S]*?)```\n<!-- webhook-verify:end -->/.exec(readme);
  if (!match) throw new Error('README.md has no ```python block between <!-- webhook-verify:begin --> and <!-- webhook-verify:end -->');
  return match[1]!;
}

/** Runs the README's verify_edgewatch on each (secret, post) with python3: one boolean each. */
async function pythonVerifies(cases: { secret: string; post: Post }[]): Promise<boolean[]> {
  const driver = `
import base64, json, sys
out = []
for c in json.load(sys.stdin):
    out.append(verify_edgewatch(c['secret'], base64.b64decode(c['body']), c['headers']))
print(json.dumps(out))
`;
  const input = JSON.stringify(
    cases.map(({ secret, post }) => ({
      secret,
      body: post.raw.toString('base64'),
      // Header names as the README writes them (a framework's case-insensitive mapping).
      headers: { 'X-Edgewatch-Timestamp': post.headers['x-edgewatch-timestamp'], 'X-Edgewatch-Signature': post.headers['x-edgewatch-signature'] },
    })),
  );
  const out = await new Promise<string>((resolve, reject) => {
    const child = execFile(process.env.EDGEWATCH_PYTHON ?? 'python3', ['-c', readmeSnippet() + driver], { timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`the README snippet failed: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
    child.stdin!.end(input);
  });
  return JSON.parse(out.trim().split('\n').pop()!) as boolean[];
}

const nowS = (): number => Math.floor(Date.now() / 1000);
const verifies = (secret: string, p: Post): ReturnType<typeof verifyWebhook> => verifyWebhook(secret, p.raw, p.headers, nowS());

describe('signed webhooks on a running hub', () => {
  let tmp: ReturnType<typeof tempDir>;
  let hub: Hub;
  let receiver: Receiver;
  let peer: TestPeer;
  let seq = 0;

  const send = async (m: Record<string, number>): Promise<void> => {
    const s = ++seq;
    peer.send({ type: 'batch', v: PROTOCOL_VERSION, seq: s, samples: [{ t: Date.now(), m }] });
    await peer.waitFor((f) => f.type === 'ack' && f.seq === s);
  };

  beforeAll(async () => {
    tmp = tempDir();
    receiver = await Receiver.start();
    hub = await startHub({
      port: 0,
      host: '127.0.0.1',
      dataDir: tmp.dir,
      log: silentLogger(),
      alerts: { evalEveryMs: 50, retryDelaysMs: [50, 100, 150], webhookTimeoutMs: 2000 },
    });
  });
  afterAll(async () => {
    peer?.close();
    await hub?.close();
    await receiver?.close();
    tmp?.remove();
  });

  it('signs every POST with the rotated secret, shown once; the README snippet verifies it; the old one stops at rotation', async () => {
    expect((await call(hub, 'PUT', '/alerts/settings', { webhookUrl: receiver.url })).status).toBe(200);
    expect((await call(hub, 'GET', '/alerts/settings')).body).toEqual({ webhookUrl: receiver.url, hasSigningSecret: false, signingSecretCreatedAt: null });

    const first = await call<{ secret: string; createdAt: number }>(hub, 'POST', '/alerts/settings/signing-secret/rotate');
    expect(first.status).toBe(200);
    const secret1 = first.body.secret;
    expect(secret1).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret1.slice('whsec_'.length), 'base64url')).toHaveLength(32);
    const settings = await call<{ hasSigningSecret: boolean; signingSecretCreatedAt: number }>(hub, 'GET', '/alerts/settings');
    expect(settings.body).toEqual({ webhookUrl: receiver.url, hasSigningSecret: true, signingSecretCreatedAt: first.body.createdAt });
    expect(settings.text).not.toContain(secret1.slice(6));

    const rule = (await call<{ rule: AlertRule }>(hub, 'POST', '/alerts/rules', { name: 'Hot CPU', kind: 'threshold', metric: 'cpu.util', op: 'above', value: 0.9, forMs: 0 })).body.rule;
    peer = await TestPeer.connect(hub.agentUrl);
    peer.send(helloFrame('signed-box', { device: { id: 'signed-box', name: 'Signed box', hostname: 'signed-box.local' } }));
    await peer.waitFor((f) => f.type === 'welcome');
    await send({ 'cpu.util': 0.97 });

    const fired = await eventually('the firing notification', () => receiver.posts.find((p) => p.body.state === 'firing' && p.body.rule.id === rule.id));
    expect(fired.headers['x-edgewatch-timestamp']).toMatch(/^\d+$/);
    expect(fired.headers['x-edgewatch-signature']).toBe(`v1=${reference(secret1, Number(fired.headers['x-edgewatch-timestamp']), fired.raw.toString('utf8'))}`);
    expect(verifies(secret1, fired)).toEqual({ ok: true });
    const tampered: Post = { ...fired, raw: Buffer.from(fired.raw.toString('utf8').replace('FIRING', 'RESOLVED')) };
    expect(verifies(secret1, tampered)).toEqual({ ok: false, reason: 'signature mismatch' });

    // Rotate again: the resolution (refused once, so also retried) is signed with the new secret.
    const secret2 = (await call<{ secret: string }>(hub, 'POST', '/alerts/settings/signing-secret/rotate')).body.secret;
    expect(secret2).toMatch(/^whsec_/);
    expect(secret2).not.toBe(secret1);
    receiver.failNext = 1;
    await send({ 'cpu.util': 0.2 });
    const resolved = await eventually('the resolution, delivered on its retry', () => {
      const r = receiver.posts.filter((p) => p.body.state === 'resolved' && p.body.rule.id === rule.id);
      return r.length >= 2 ? r : undefined;
    });
    for (const p of resolved) {
      expect(verifies(secret2, p)).toEqual({ ok: true });
      expect(verifies(secret1, p)).toEqual({ ok: false, reason: 'signature mismatch' });
    }

    const py = await pythonVerifies([
      { secret: secret1, post: fired },
      { secret: secret1, post: tampered },
      { secret: secret2, post: fired },
      ...resolved.flatMap((post) => [
        { secret: secret2, post },
        { secret: secret1, post },
      ]),
    ]);
    expect(py).toEqual([true, false, false, ...resolved.flatMap(() => [true, false])]);
  }, 60_000);
});
