// Hostile local input against the inference receiver of a real agent process (dist/) streaming to
// a real hub on 127.0.0.1: seeded fast-check runs of garbage and malformed UDP lines and HTTP
// bodies, oversized datagrams and bodies, deep JSON, NaN/∞/-0 as text, control characters and
// unicode, wrong content types, truncated and stalled requests, 100,000 invented model names and
// an experiment flood. Meanwhile a healthy client (the TypeScript SDK) records a known number of
// timings into one experiment. Properties: the agent never exits and always answers /v1/health,
// its RSS grows by less than a fixed bound, the caps refuse with counts (health, and the hub's
// inference.dropped), and the hub counts the healthy experiment exactly.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentSummary, SeriesResponse } from '../../shared/live.js';
import { createClient } from '../../sdk/index.js';
import { eventually, freePort, getJson, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Generous on purpose: a leak (per datagram, per model, per connection) grows far past it. */
const RSS_BOUND_MB = 150;
const SEED = 20261203;

interface Health {
  ok: boolean;
  stats: { udpDatagrams: number; accepted: number; rejected: number; refused: number; connectionsRefused: number; httpRequests: number };
  aggregator: { dropped: { overflow: number; stale: number; models: number }; experimentsRefused: number; models: number; openExperiments: number };
}

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${pid}/status: is the agent (pid ${pid}) still running?`);
  return Number(kb) / 1024;
}

/** Hostile UDP lines: each field is either plausible or one of the values a parser gets wrong. */
const nastyNumber = fc.oneof(
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '-0', '+0', '1e309', '-1', '0x10', '0b11', '1_000', '', '.', '1e-400', '86400001', '9'.repeat(400), '١٢', '1,5'),
  fc.double().map(String),
  fc.integer().map(String),
);
const nastyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 140 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'a'.repeat(129), '\u0000', '\u202e', 'm\u0007', 'x\ud800', '<script>', "'; drop table x; --"),
  fc.stringMatching(/^[A-Za-z0-9_.:/@+-]{1,12}$/),
);
const udpLine = fc.oneof(
  fc.tuple(fc.constantFrom('ew1', 'ew2', 'EW1', ''), nastyText, nastyNumber, fc.array(fc.tuple(fc.constantFrom('b', 'x', 't', '#k', '#__proto__', '#', 'zz', ''), fc.oneof(nastyNumber, nastyText)), { maxLength: 40 })).map(
    ([head, model, latency, fields]) => [head, model, latency, ...fields.map(([k, v]) => `${k}=${v}`)].join(' '),
  ),
  fc.string({ unit: 'binary', maxLength: 300 }),
);
const udpPayload = fc.oneof(
  { weight: 4, arbitrary: fc.array(udpLine, { minLength: 1, maxLength: 30 }).map((lines) => Buffer.from(lines.join('\n'))) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)) },
  // Up to and past the documented 8 KiB, to the largest a UDP datagram can be on loopback.
  { weight: 1, arbitrary: fc.tuple(udpLine, fc.integer({ min: 8192, max: 65_507 })).map(([line, size]) => Buffer.alloc(size, `${line}\n`)) },
);

/** JSON nested `depth` deep, built as text: a stack-depth bomb for a recursive validator. */
const nested = fc.tuple(fc.integer({ min: 1, max: 200_000 }), fc.constantFrom('[', '{"timings":')).map(([depth, open]) => {
  const close = open === '[' ? ']' : '}';
  return open.repeat(depth) + '0' + close.repeat(depth);
});
const jsonNumberText = fc.constantFrom('NaN', 'Infinity', '-0', '1e400', '-1e400', '1e-400', '123456789012345678901234567890', '-5', '0.1e-7', 'null', '"12"', 'true');
const timingText = fc.record({ model: nastyText, latency: jsonNumberText, batch: jsonNumberText, t: jsonNumberText, tagKey: nastyText, tagValue: nastyText }).map(
  ({ model, latency, batch, t, tagKey, tagValue }) => `{"model":${JSON.stringify(model)},"latencyMs":${latency},"batch":${batch},"t":${t},"tags":{${JSON.stringify(tagKey)}:${JSON.stringify(tagValue)}}}`,
);
const httpBody = fc.oneof(
  fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)),
  nested.map((s) => Buffer.from(s)),
  fc.array(timingText, { maxLength: 50 }).map((ts) => Buffer.from(`{"timings":[${ts.join(',')}]}`)),
  fc.jsonValue({ maxDepth: 6 }).map((v) => Buffer.from(JSON.stringify(v))),
  fc.constantFrom('', ' ', '{}', '{"timings":null}', '{"timings":{}}', '{"__proto__":{"timings":[]}}', '{"timings":[],"timings":[1]}', '{"name":""}').map((s) => Buffer.from(s)),
  // Just over the 1 MiB body limit, and well past it.
  fc.constantFrom(1024 * 1024 + 1, 3 * 1024 * 1024).map((n) => Buffer.alloc(n, '[')),
);
const httpRequest = fc.record({
  method: fc.oneof({ weight: 4, arbitrary: fc.constant('POST') }, fc.constantFrom('GET', 'PUT', 'DELETE', 'OPTIONS', 'PATCH')),
  path: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('/v1/timings', '/v1/experiments', '/v1/experiments/x-1/scores') },
    fc.constantFrom('/v1/timings', '/v1/experiments', '/v1/health', '/v1/top', '/v1/experiments/x-1/end', '/v1/experiments/%ZZ/scores', '/v1/experiments/' + 'a'.repeat(300) + '/end', '//a:99999', '/v1/timings/', '/'),
    fc.stringMatching(/^\/[\x21-\x7e]{0,80}$/),
  ),
  contentType: fc.constantFrom('application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', ''),
  body: httpBody,
  /** Sent in pieces of this size (a chunked, slowly arriving body), or all at once (0). */
  chunk: fc.constantFrom(0, 0, 1, 7, 1000),
  /** Bytes of the body sent before the client hangs up mid-request (-1: all of it). */
  truncateAt: fc.constantFrom(-1, -1, -1, 0, 5, 100),
});

/** A raw HTTP/1.1 request on its own socket: what a fetch() would never send (bad targets, cut-off bodies). */
function rawRequest(port: number, r: { method: string; path: string; contentType: string; body: Buffer; chunk: number; truncateAt: number }): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    // Bounded: a stalled exchange ends here, whatever the agent does.
    const timer = setTimeout(done, 5000);
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      if (answer.length > 64 * 1024) done();
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => {
      const head = `${r.method} ${r.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${r.contentType ? `Content-Type: ${r.contentType}\r\n` : ''}${r.chunk > 0 ? 'Transfer-Encoding: chunked' : `Content-Length: ${r.body.length}`}\r\nConnection: close\r\n\r\n`;
      socket.write(head);
      const body = r.truncateAt >= 0 ? r.body.subarray(0, r.truncateAt) : r.body;
      if (r.chunk > 0) {
        // At most 50 chunks written one by one, then the rest at once: slow, but bounded in time.
        let offset = 0;
        for (let k = 0; k < 50 && offset < body.length; k++, offset += r.chunk) {
          const piece = body.subarray(offset, offset + r.chunk);
          socket.write(`${piece.length.toString(16)}\r\n`);
          socket.write(piece);
          socket.write('\r\n');
        }
        if (offset < body.length) socket.write(`${(body.length - offset).toString(16)}\r\n`), socket.write(body.subarray(offset)), socket.write('\r\n');
        if (r.truncateAt < 0) socket.write('0\r\n\r\n');
      } else socket.write(body);
      if (r.truncateAt >= 0) setTimeout(() => socket.destroy(), 20);
    });
  });
}

function sendUdp(socket: UdpSocket, port: number, payload: Buffer): Promise<void> {
  return new Promise((resolve) => socket.send(payload, port, '127.0.0.1', () => resolve()));
}

describe('the inference receiver of a real agent under hostile local input', () => {
  let tmp: ReturnType<typeof tempDir>;
  let hub: CliProcess;
  let agent: CliProcess;
  let hubBase = '';
  let agentBase = '';
  let inferencePort = 0;
  let udp: UdpSocket;
  let rssStart = 0;
  let deviceId = '';

  const health = async (): Promise<Health> => {
    const res = await fetch(`${agentBase}/v1/health`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) throw new Error(`GET /v1/health answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as Health;
  };
  const alive = (): void => {
    if (agent.child.exitCode !== null || agent.child.signalCode !== null) throw new Error(`the agent exited (${agent.child.exitCode ?? agent.child.signalCode}):\n${agent.output().slice(-4000)}`);
  };

  beforeAll(async () => {
    tmp = tempDir('edgewatch-receiver-fuzz-');
    const port = await freePort();
    inferencePort = await freePort();
    hubBase = `http://127.0.0.1:${port}`;
    agentBase = `http://127.0.0.1:${inferencePort}`;
    hub = spawnCli(['hub', '--no-auth', '--port', String(port), '--host', '127.0.0.1', '--data', join(tmp.dir, 'hub')]);
    await eventually('hub /healthz', async () => (await getJson<{ ok: boolean }>(`${hubBase}/healthz`)).ok, 20_000);
    agent = spawnCli(['agent', '--hub', `ws://127.0.0.1:${port}`, '--interval', '500', '--state-dir', join(tmp.dir, 'agent-state'), '--name', 'fuzz-device', '--inference-port', String(inferencePort)]);
    const device = await eventually(
      'the agent registered on the hub',
      async () => (await getJson<{ devices: { id: string; name: string; online: boolean }[] }>(`${hubBase}/api/v1/devices`)).devices.find((d) => d.name === 'fuzz-device' && d.online),
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${agent.output().slice(-3000)}`);
    });
    deviceId = device.id;
    await eventually('the agent receiver answering', () => health(), 10_000);
    udp = createSocket('udp4');
    rssStart = rssMb(agent.child.pid!);
  }, 60_000);

  afterAll(async () => {
    udp?.close();
    await agent?.kill();
    await hub?.kill();
    tmp?.remove();
  });

  it('never stops answering, and counts a healthy SDK client exactly while garbage, huge and cut-off input arrives', async () => {
    const client = createClient({ port: inferencePort, transport: 'http', experiment: null });
    const id = await client.startExperiment({ name: 'healthy-under-fuzz' });
    expect(id).not.toBeNull();
    const SENT = 3000;
    let recorded = 0;
    let fuzzing = true;
    // Paced through the fuzz: a few timings every 5 ms, the rest after, so it straddles everything.
    const healthy = (async () => {
      while (recorded < SENT && fuzzing) {
        for (let k = 0; k < 5 && recorded < SENT; k++, recorded++) client.record('healthy-model', 1 + (recorded % 17));
        await new Promise((r) => setTimeout(r, 5));
      }
      while (recorded < SENT) client.record('healthy-model', 1 + (recorded++ % 17));
      await client.flush();
    })();

    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(udpPayload, { maxLength: 20 }), fc.array(httpRequest, { maxLength: 3 }), async (datagrams, requests) => {
        for (const d of datagrams) await sendUdp(udp, inferencePort, d);
        const answers = await Promise.all(requests.map((r) => rawRequest(inferencePort, r)));
        for (const a of answers) {
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(a)?.[1] ?? 0);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          // No request of ours is the agent's fault, and every refusal says what was wrong in one line.
          expect(status, a.slice(0, 300)).not.toBe(500);
          if (status >= 400) {
            const body = a.slice(a.indexOf('\r\n\r\n') + 4);
            expect(JSON.parse(body)).toEqual({ error: expect.stringMatching(/^[^\n\r]{10,}$/) });
          }
        }
        alive();
        expect((await health()).ok).toBe(true);
      }),
      { numRuns: 300, seed: SEED, endOnFailure: true, interruptAfterTimeLimit: 90_000 },
    );
    fuzzing = false;
    await healthy;
    expect(await client.endExperiment(id!)).toBe(true);
    expect(client.stats()).toMatchObject({ sent: SENT, dropped: 0, errors: 0 });
    await client.close();
    // The fuzz reached the refusals it was meant to (not only 404s): 400, 413, 405.
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([400, 404, 405, 413]));

    const count = async () => (await getJson<{ experiment: ExperimentSummary }>(`${hubBase}/api/v1/experiments/${id}`)).experiment;
    const settled = await eventually(`the hub counting all ${SENT} timings of ${id}`, async () => {
      const e = await count();
      return e.end !== null && e.inferences === SENT ? e : undefined;
    }, 15_000).catch(async () => count());
    expect(settled.inferences).toBe(SENT);
    // A client hanging up mid-body is its own doing: not a warning per request from the agent.
    expect(agent.output()).not.toMatch(/inference HTTP handler failed/);
    alive();
  }, 180_000);

  it('refuses, and counts, timings past the distinct-model cap: 100,000 invented model names', async () => {
    const before = await health();
    const NAMES = 100_000;
    const UDP_NAMES = 10_000;
    // Over UDP ~100 lines a datagram (under 8 KiB, as an SDK packs them), 10 datagrams at a time
    // and then until the agent has them: the point is the agent's cap, not the kernel's socket
    // buffer, which drops what overflows it without anyone counting.
    for (let i = 0; i < UDP_NAMES; ) {
      for (let d = 0; d < 10 && i < UDP_NAMES; d++) {
        const lines: string[] = [];
        for (let k = 0; k < 100 && i < UDP_NAMES; k++, i++) lines.push(`ew1 invented-${i} 1.5`);
        await sendUdp(udp, inferencePort, Buffer.from(lines.join('\n')));
      }
      await eventually('the agent to read the datagrams sent', async () => (await health()).stats.udpDatagrams - before.stats.udpDatagrams >= Math.ceil(i / 100) * 0.9, 5000, 20);
    }
    // The rest over HTTP, exactly: 5,000 a request.
    let answered = { accepted: 0, refused: 0 };
    for (let i = UDP_NAMES; i < NAMES; i += 5000) {
      const timings = Array.from({ length: 5000 }, (_, k) => ({ model: `invented-${i + k}`, latencyMs: 1.5 }));
      const res = await fetch(`${agentBase}/v1/timings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timings }) });
      expect(res.status).toBe(202);
      const body = (await res.json()) as { accepted: number; refused?: number };
      answered = { accepted: answered.accepted + body.accepted, refused: answered.refused + (body.refused ?? 0) };
    }
    // A well-formed batch that a limit refused is still a 202, and says how many were refused.
    expect(answered.accepted + answered.refused).toBe(NAMES - UDP_NAMES);
    expect(answered.refused).toBeGreaterThan(NAMES - UDP_NAMES - 1024);
    const after = await health();
    alive();
    expect(after.aggregator.models).toBeLessThanOrEqual(1024);
    expect(after.aggregator.dropped.models - before.aggregator.dropped.models).toBeGreaterThan(NAMES * 0.8);
    expect(after.stats.refused - before.stats.refused).toBeGreaterThan(NAMES * 0.8);
    // (In the JSON log line the model's quotes are escaped.)
    expect(agent.output()).toMatch(/inference timings refused \(counted in inference.dropped and GET \/v1\/health\): model \\"invented-\d+\\" refused: 1024 distinct models/);
    // Logged at most once a minute, not once per timing.
    expect(agent.output().match(/"msg":"inference timings refused[^"]*model \\"invented-\d+\\" refused/g)).toHaveLength(1);

    // …and the hub hears of it as inference.dropped: the drops ride on the following ticks, so
    // wait until they have all arrived rather than for the first of them.
    const refusedHere = after.stats.refused - before.stats.refused;
    await eventually('inference.dropped on the hub to add up to the refusals', async () => {
      const res = await getJson<SeriesResponse>(`${hubBase}/api/v1/devices/${deviceId}/series?metrics=inference.dropped&from=${Date.now() - 600_000}&to=${Date.now() + 1000}&points=2000`);
      expect(res.stepMs).toBe(0); // raw points: one per tick, the count sent on it
      const total = (res.series['inference.dropped'] ?? []).reduce((n, p) => n + p[1], 0);
      return total >= refusedHere ? total : undefined;
    }, 20_000);
  }, 90_000);

  it('refuses experiment starts past the cap with a counted 429, and ends nothing that is being measured', async () => {
    const client = createClient({ port: inferencePort, transport: 'http', experiment: null });
    const id = await client.startExperiment({ name: 'measured-through-a-flood' });
    expect(id).not.toBeNull();
    client.record('flood-model', 2);
    await client.flush();
    const tags = Object.fromEntries(Array.from({ length: 32 }, (_, k) => [`k${k}`, 'v'.repeat(256)]));
    const codes = new Map<number, number>();
    let refusal = '';
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${agentBase}/v1/experiments`, { method: 'POST', body: JSON.stringify({ name: `flood-${i}`, tags }) });
      const body = (await res.json()) as { error?: string };
      codes.set(res.status, (codes.get(res.status) ?? 0) + 1);
      if (res.status === 429) refusal = body.error!;
      if (i % 20 === 0) client.record('flood-model', 2);
    }
    expect(codes.get(429)).toBeGreaterThan(100);
    expect(refusal).toMatch(/^experiment not started: 64 experiments are open and each had a timing in the last 60 s; end one/);
    const h = await health();
    expect(h.aggregator.experimentsRefused).toBeGreaterThanOrEqual(codes.get(429)!);
    expect(h.aggregator.openExperiments).toBeLessThanOrEqual(64);
    expect(await client.endExperiment(id!)).toBe(true);
    expect(client.stats()).toMatchObject({ sent: 11, dropped: 0 });
    await client.close();
    const settled = await eventually('the flooded experiment counted', async () => {
      const e = (await getJson<{ experiment: ExperimentSummary }>(`${hubBase}/api/v1/experiments/${id}`)).experiment;
      return e.end !== null && e.inferences === 11 ? e : undefined;
    }, 15_000);
    expect(settled.inferences).toBe(11);
    alive();
  }, 60_000);

  it('holds slow and stalled clients to a connection cap and a request timeout, and keeps answering health', async () => {
    const stall = (): Socket => {
      const s = connect(inferencePort, '127.0.0.1');
      s.on('error', () => {});
      // A body that never completes, each connection holding 60 kB of it.
      s.write(`POST /v1/timings HTTP/1.1\r\nHost: x\r\nContent-Length: 900000\r\n\r\n{"timings":[` + ' '.repeat(60_000));
      return s;
    };
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 40; i++) sockets.push(stall());
      await new Promise((r) => setTimeout(r, 300));
      expect((await health()).ok).toBe(true);
      // Past MAX_CONNECTIONS (64): the agent closes new ones at once and counts them.
      for (let i = 0; i < 60; i++) sockets.push(stall());
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      for (const s of sockets) s.destroy();
    }
    const h = await eventually('health after the stalled clients left', () => health(), 10_000);
    expect(h.stats.connectionsRefused).toBeGreaterThan(0);

    // One that stays stalled is answered 408 and closed by the agent itself (REQUEST_TIMEOUT_MS, 10 s).
    const lone = stall();
    let answer = '';
    lone.on('data', (d: Buffer) => (answer += d.toString()));
    const closed = new Promise<void>((resolve) => lone.once('close', () => resolve()));
    await eventually('the agent to close a request stalled past its timeout', () => lone.destroyed || lone.readableEnded, 25_000, 250).finally(() => lone.destroy());
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    alive();
  }, 45_000);

  it('keeps its memory bounded through all of it', async () => {
    alive();
    const grown = rssMb(agent.child.pid!) - rssStart;
    expect(grown, `agent RSS grew ${grown.toFixed(1)} MB (from ${rssStart.toFixed(1)} MB)`).toBeLessThan(RSS_BOUND_MB);
    expect((await health()).ok).toBe(true);
  });
});
