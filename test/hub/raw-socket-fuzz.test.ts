// A live hub under hostile input: while one healthy agent sends a batch every 50 ms, other
// peers send random bytes over raw TCP, malformed upgrades, garbage and binary WebSocket
// frames, oversize frames, batches before hello, bad versions, floods and unknown paths. The
// healthy agent must get every ack, in order; the hub must not throw; every hostile peer must
// get error frames or be closed. Bounded: a few thousand frames, a few seconds.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { MAX_AGENT_FRAME_BYTES, PROTOCOL_VERSION } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';

interface Outcome {
  frames: Record<string, unknown>[];
  closeCode: number | null;
  error: string | null;
}

/** Opens a ws, runs `act`, and collects what came back until it closes or `settleMs` passes. */
function hostileWs(url: string, act: (ws: WebSocket) => void, settleMs = 2500): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { frames: [], closeCode: null, error: null };
    const ws = new WebSocket(url);
    const done = (): void => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      resolve(out);
    };
    const timer = setTimeout(done, settleMs + 4000);
    ws.on('message', (data) => out.frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
    ws.on('error', (err) => {
      out.error = err.message;
    });
    ws.on('close', (code) => {
      out.closeCode = code;
      done();
    });
    ws.on('open', () => {
      act(ws);
      clearTimeout(timer);
      setTimeout(done, settleMs);
    });
  });
}

/** Writes raw bytes on a TCP connection; resolves with what came back and whether it closed. */
function rawTcp(port: number, chunks: Buffer[], waitMs = 1500): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    const sock: Socket = connect(port, '127.0.0.1');
    let reply = '';
    let closed = false;
    const finish = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ reply, closed });
    };
    const timer = setTimeout(finish, waitMs);
    sock.on('data', (d) => {
      reply += d.toString('latin1');
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      closed = true;
      finish();
    });
    sock.on('connect', () => {
      for (const c of chunks) sock.write(c);
    });
  });
}

describe('hub under hostile raw input', () => {
  let hub: Hub;
  let tmp: ReturnType<typeof tempDir>;
  let agentUrl: string;
  let liveUrl: string;
  const logLines: { msg: string; level: number }[] = [];
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => {
    uncaught.push(err);
  };

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    tmp = tempDir('edgewatch-fuzz-');
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as { msg: string; level: number });
        cb();
      },
    });
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: pino({ level: 'warn' }, sink) });
    agentUrl = `ws://127.0.0.1:${hub.port}/ws/agent`;
    liveUrl = `ws://127.0.0.1:${hub.port}/ws/live`;
  });
  afterAll(async () => {
    await hub.close();
    tmp.remove();
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  });

  it('keeps acking a healthy agent, without gaps, while every kind of garbage arrives', async () => {
    const healthy = await TestPeer.connect(agentUrl);
    healthy.send(helloFrame('healthy-agent'));
    await healthy.waitFor((f) => f.type === 'welcome');
    let seq = 0;
    const ticker = setInterval(() => {
      seq++;
      healthy.send({ type: 'batch', v: PROTOCOL_VERSION, seq, samples: [{ t: Date.now(), m: { 'cpu.util': seq % 100 } }] });
    }, 50);

    const bad = (f: Record<string, unknown>, code?: string) => f.type === 'error' && (code === undefined || f.code === code);
    try {
      const results = await Promise.all([
        // Random bytes over raw TCP: the HTTP parser refuses them (400) and closes.
        ...Array.from({ length: 8 }, () => rawTcp(hub.port, [randomBytes(64 + Math.floor(Math.random() * 4096))])),
        // Malformed upgrades: no key, a wrong version, junk header bytes, a truncated request.
        rawTcp(hub.port, [Buffer.from('GET /ws/agent HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')]),
        rawTcp(hub.port, [Buffer.from('GET /ws/agent HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 99\r\n\r\n')]),
        rawTcp(hub.port, [Buffer.from('GET /ws/agent HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-\u0000\u0001: \u00ff\r\n\r\n', 'latin1')]),
        rawTcp(hub.port, [Buffer.from('GET /ws/agent HTTP/1.1\r\nUpgrade: websocket\r\nConn')], 300),
        // A valid upgrade, then raw garbage instead of WebSocket framing.
        rawTcp(hub.port, [
          Buffer.from('GET /ws/agent HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'),
          randomBytes(2048),
        ]),
        // Unknown upgrade path over raw TCP.
        rawTcp(hub.port, [Buffer.from('GET /ws/../etc/passwd HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')]),
      ]);
      for (const r of results.slice(0, 8)) expect(r.closed || /^HTTP\/1\.1 4\d\d/.test(r.reply), r.reply.slice(0, 80)).toBe(true);
      expect(results[8]!.reply).toMatch(/^HTTP\/1\.1 400/);
      expect(results[9]!.reply).toMatch(/^HTTP\/1\.1 400/);
      expect(results[10]!.reply).toMatch(/^HTTP\/1\.1 400/);
      expect(results[12]!.reply).toMatch(/^HTTP\/1\.1 101/);
      expect(results[12]!.closed).toBe(true);
      expect(results[13]!.reply).toMatch(/^HTTP\/1\.1 404/);

      const [garbage, binary, oversize, early, badVersion, deep, flood, unknown, liveFlood] = await Promise.all([
        hostileWs(agentUrl, (ws) => {
          for (const s of ['', '{', 'null', '[]', '"hello"', '{"type":"hello"}', '{"type":"batch","v":1,"seq":-1}', '\u0000\ud800', 'x'.repeat(70_000)]) ws.send(s);
        }),
        hostileWs(agentUrl, (ws) => {
          for (let i = 0; i < 5; i++) ws.send(randomBytes(100 + i * 1000));
        }),
        hostileWs(agentUrl, (ws) => ws.send('x'.repeat(MAX_AGENT_FRAME_BYTES + 1))),
        hostileWs(agentUrl, (ws) => ws.send(JSON.stringify({ type: 'batch', v: 1, seq: 1, samples: [{ t: 1, m: { 'cpu.util': 1 } }] }))),
        hostileWs(agentUrl, (ws) => ws.send(JSON.stringify({ ...helloFrame('bad-version'), v: 2 }))),
        // A deeply nested version field: parseFrame throws on it (see protocol-fuzz), the hub must not.
        hostileWs(agentUrl, (ws) => ws.send(`{"type":"batch","v":${'['.repeat(20_000)}${']'.repeat(20_000)}}`)),
        // Thousands of frames as fast as the socket takes them: rate limited, then closed (1008).
        hostileWs(agentUrl, (ws) => {
          ws.send(JSON.stringify(helloFrame('flooder')));
          for (let i = 1; i <= 4000; i++) ws.send(JSON.stringify({ type: 'batch', v: 1, seq: i, samples: [{ t: i, m: { 'x.y': i } }] }));
        }, 4000),
        hostileWs(`ws://127.0.0.1:${hub.port}/ws/nowhere`, () => {}),
        hostileWs(liveUrl, (ws) => {
          for (let i = 0; i < 500; i++) ws.send(JSON.stringify({ type: 'subscribe', v: 1, devices: '*' }));
        }),
      ]);

      expect(garbage.frames.length).toBe(9);
      expect(garbage.frames.every((f) => bad(f))).toBe(true);
      expect(garbage.frames.map((f) => f.code)).toContain('bad_json');
      expect(garbage.frames.map((f) => f.code)).toContain('invalid_message');
      expect(binary.frames).toHaveLength(5);
      expect(binary.frames.every((f) => bad(f, 'invalid_message'))).toBe(true);
      expect(oversize.closeCode).toBe(1009);
      expect(early.frames).toContainEqual(expect.objectContaining({ type: 'error', code: 'hello_required', seq: 1 }));
      expect(badVersion.frames).toContainEqual(expect.objectContaining({ type: 'error', code: 'unsupported_version' }));
      expect(deep.frames.some((f) => bad(f))).toBe(true);
      expect(deep.closeCode).toBeNull(); // answered, still connected

      expect(flood.closeCode).toBe(1008);
      const limited = flood.frames.filter((f) => bad(f, 'rate_limited'));
      expect(limited.length).toBeGreaterThan(0);
      expect(limited.length).toBeLessThan(800); // the drop allowance (500), plus what refilled meanwhile
      expect(limited.every((f) => typeof f.seq === 'number')).toBe(true); // the agent knows which batch to resend
      // Frames inside the burst were stored (their acks may not make it: the socket closes
      // first), none that were dropped was.
      await expect.poll(() => hub.store.getDevice('flooder')?.lastSeq ?? 0).toBeGreaterThan(500);
      const flooder = hub.store.getDevice('flooder')!;
      const stored = hub.store.series({ deviceNum: flooder.num, deviceId: 'flooder', metrics: ['x.y'], from: 0, to: 4001, points: 5000 }).series['x.y']!;
      const storedTs = new Set(stored.map((p) => p[0]));
      expect(storedTs.size).toBeGreaterThan(500);
      for (const f of limited) expect(storedTs.has(f.seq as number), `dropped batch ${String(f.seq)} was stored`).toBe(false);

      expect(unknown.error).toMatch(/404/);
      expect(liveFlood.frames.some((f) => bad(f, 'rate_limited'))).toBe(true);
      expect(liveFlood.closeCode).toBe(1008);

      // Keep it up for a while: random text and binary frames on fresh connections, and more raw bytes.
      while (seq < 40) {
        const [junk] = await Promise.all([
          hostileWs(agentUrl, (ws) => {
            for (let i = 0; i < 20; i++) ws.send(Math.random() < 0.5 ? randomBytes(1 + Math.floor(Math.random() * 512)) : randomBytes(256).toString('latin1'));
          }, 100),
          rawTcp(hub.port, [randomBytes(512)], 100),
        ]);
        expect(junk.frames.length + (junk.closeCode === null ? 0 : 1)).toBeGreaterThan(0);
        expect(junk.frames.every((f) => bad(f))).toBe(true);
      }
    } finally {
      clearInterval(ticker);
    }

    // Every batch the healthy agent sent was acked, in order, with no gap.
    const last = seq;
    expect(last).toBeGreaterThan(20);
    await healthy.waitFor((f) => f.type === 'ack' && f.seq === last, 5000);
    const acks = healthy.received.filter((f) => f.type === 'ack').map((f) => f.seq);
    expect(acks).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(healthy.received.filter((f) => f.type === 'error')).toEqual([]);
    const row = hub.store.getDevice('healthy-agent')!;
    expect(row.lastSeq).toBe(last);
    healthy.close();

    // The hub did not throw, and its log was not flooded (rejections are throttled per connection).
    expect(uncaught).toEqual([]);
    const health = (await (await fetch(`${hub.url}/healthz`)).json()) as { ok: boolean };
    expect(health.ok).toBe(true);
    const rejected = logLines.filter((l) => /rejected|rate limit|could not be handled/.test(l.msg));
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.length).toBeLessThan(100);
  }, 30_000);
});
