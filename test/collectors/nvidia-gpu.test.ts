// The real nvidia-gpu collector against a fake nvidia-smi (test/fixtures/bin/nvidia-smi) that
// replays the H200 captures at the pace the collector asks for with -lms. Switches in the
// environment make the fake fail, die after n rows, stall, or reject fields like an old driver.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Collector, CollectorContext, MetricValues } from '../../agent/collectors/collector.js';
import { CORE_STREAM_FIELDS, createNvidiaGpuCollector, nvidiaGpuCollector, STREAM_FIELDS } from '../../agent/collectors/nvidia-gpu.js';
import { silentLogger } from '../../shared/log.js';
import { scenarioTree } from './harness.js';

const BIN = fileURLToPath(new URL('../fixtures/bin/', import.meta.url));
const MiB = 1_048_576;
const INTERVAL_MS = 100;
/** Values of the replayed busy_stream_lms500.txt rows. */
const STREAM_POWER = [694.81, 693.08, 693.84, 691.66, 689.96, 692.48, 695.82, 690.52];
const STREAM_CLOCK_SM = [1470, 1440, 1485, 1470, 1515, 1455, 1470, 1455];

const SWITCHES = ['FAKE_NVSMI_FAIL', 'FAKE_NVSMI_REJECT', 'FAKE_NVSMI_DIE_AFTER', 'FAKE_NVSMI_STALL_AFTER'];

interface LogEntry {
  event: 'start' | 'exit';
  t: number;
  pid: number;
  args: string[];
}

let work: string;
let startLog: string;
let open: Collector[] = [];

function ctx(overrides: Partial<CollectorContext> = {}): CollectorContext {
  return { procRoot: '/proc', sysRoot: '/sys', hostRoot: '/', intervalMs: INTERVAL_MS, path: BIN, log: silentLogger(), ...overrides };
}

function events(): LogEntry[] {
  if (!existsSync(startLog)) return [];
  return readFileSync(startLog, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LogEntry);
}

const starts = (): LogEntry[] => events().filter((e) => e.event === 'start');
const streamStarts = (): LogEntry[] => starts().filter((s) => s.args.includes('-lms'));

async function detect(factory = nvidiaGpuCollector, c = ctx()): Promise<Collector> {
  const collector = await factory.detect(c);
  if (!collector) throw new Error('nvidia-gpu detected nothing with the fake nvidia-smi on PATH');
  open.push(collector);
  return collector;
}

async function sample(collector: Collector, now = Date.now()): Promise<MetricValues> {
  const out: MetricValues = {};
  await collector.sample(now, out);
  return out;
}

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function valuesFrom(collector: Collector, timeoutMs = 3000): Promise<MetricValues> {
  return waitFor(async () => {
    const v = await sample(collector);
    return 'gpu.0.util' in v ? v : undefined;
  }, timeoutMs, 'GPU values');
}

beforeAll(() => {
  // A checkout may lose the execute bit; the fake must be runnable for PATH lookup to find it.
  chmodSync(join(BIN, 'nvidia-smi'), 0o755);
});

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'edgewatch-nvgpu-'));
  startLog = join(work, 'starts.jsonl');
  process.env.FAKE_NVSMI_LOG = startLog;
  process.env.FAKE_NVSMI_NODE = process.execPath;
  for (const s of SWITCHES) delete process.env[s];
});

afterEach(async () => {
  await Promise.all(open.map((c) => c.close?.()));
  open = [];
  for (const s of [...SWITCHES, 'FAKE_NVSMI_LOG', 'FAKE_NVSMI_NODE']) delete process.env[s];
  rmSync(work, { recursive: true, force: true });
});

describe('nvidia-gpu collector: detection', () => {
  it('is absent when nvidia-smi is not on the PATH', async () => {
    expect(await nvidiaGpuCollector.detect(ctx({ path: work }))).toBeNull();
    expect(await nvidiaGpuCollector.detect(ctx({ path: '' }))).toBeNull();
  });

  it('is absent when nvidia-smi is there but fails (no driver), after one listing and no stream', async () => {
    process.env.FAKE_NVSMI_FAIL = '1';
    expect(await nvidiaGpuCollector.detect(ctx())).toBeNull();
    expect(starts()).toHaveLength(1);
    expect(starts()[0]!.args).toEqual(['--query-gpu=index,uuid,name,memory.total,driver_version', '--format=csv,noheader,nounits']);
  });

  it('leaves a Jetson to the jetson collector: null without running nvidia-smi', async () => {
    const tree = scenarioTree('jetson-nano');
    try {
      const jetson = ctx({ procRoot: join(tree.root, 'proc'), sysRoot: join(tree.root, 'sys'), hostRoot: tree.root });
      expect(await nvidiaGpuCollector.detect(jetson)).toBeNull();
      expect(starts()).toEqual([]);
      // The same fake on a tree that is no Jetson is found: the board, not the PATH, decided.
      expect(await detect(nvidiaGpuCollector, ctx({ procRoot: join(tree.root, 'proc'), sysRoot: join(tree.root, 'none'), hostRoot: join(tree.root, 'none') }))).not.toBeNull();
    } finally {
      tree.remove();
    }
  });

  it('lists the GPUs once for the inventory', async () => {
    const collector = await detect();
    expect(collector.name).toBe('nvidia-gpu');
    expect(collector.inventory?.()).toEqual({
      gpus: [{ index: 0, name: 'NVIDIA H200', uuid: 'GPU-8a51e4ec-0b64-acd8-05ed-801c0603328d', memTotalBytes: 143771 * MiB, driver: '580.159.04' }],
    });
  });
});

describe('nvidia-gpu collector: streaming', () => {
  it('keeps one -lms process at the sampling interval and reports its latest values', async () => {
    const collector = await detect();
    const first = await valuesFrom(collector);
    expect(first).toMatchObject({
      'gpu.0.util': 99,
      'gpu.0.mem.bus_util': 23,
      'gpu.0.mem.used': 883 * MiB,
      'gpu.0.mem.total': 143771 * MiB,
      'gpu.0.power.limit': 700,
      'gpu.0.clock.mem': 3201,
      'gpu.0.pstate': 0,
    });
    expect(STREAM_POWER).toContain(first['gpu.0.power']);
    expect(STREAM_CLOCK_SM).toContain(first['gpu.0.clock.sm']);
    expect(first['gpu.0.clock.gr']).toBe(first['gpu.0.clock.sm']);
    expect([55, 56]).toContain(first['gpu.0.temp']);
    expect([43, 44]).toContain(first['gpu.0.temp.mem']);
    // [N/A] in the capture (fan) or a field the capture lacks (encoder): not reported, never 0.
    expect(first).not.toHaveProperty('gpu.0.fan');
    expect(first).not.toHaveProperty('gpu.0.enc.util');
    expect(first).not.toHaveProperty('gpu.0.dec.util');

    // Sample for a while: values move on with the stream, and nothing is spawned per sample.
    const powers = new Set<number>();
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, INTERVAL_MS));
      powers.add((await sample(collector))['gpu.0.power']!);
    }
    expect(powers.size).toBeGreaterThan(2);
    expect(starts()).toHaveLength(2);
    expect(streamStarts()[0]!.args).toEqual([`--query-gpu=${STREAM_FIELDS.join(',')}`, '--format=csv,nounits', '-lms', String(INTERVAL_MS)]);
  });

  it('reports nothing for a GPU whose latest reading is older than 3 intervals', async () => {
    process.env.FAKE_NVSMI_STALL_AFTER = '2';
    const collector = await detect();
    await valuesFrom(collector);
    // Within 3 intervals of its arrival a reading is still reported.
    expect(await sample(collector, Date.now() + INTERVAL_MS)).toHaveProperty('gpu.0.util', 99);
    // The fake has stopped writing but still runs: its last row soon counts as stale.
    await new Promise((r) => setTimeout(r, 5 * INTERVAL_MS));
    expect(await sample(collector)).toEqual({});
    expect(streamStarts()).toHaveLength(1);
  });

  it('restarts the -lms process with growing delays when it exits, and values come back', async () => {
    process.env.FAKE_NVSMI_DIE_AFTER = '2';
    const collector = await detect(createNvidiaGpuCollector({ backoff: { initialMs: 150, factor: 2, jitter: 0, maxMs: 5000 } }));
    await valuesFrom(collector);
    await waitFor(() => (streamStarts().length >= 4 ? true : undefined), 10_000, 'four -lms starts');
    // Time from each exit of the stream process to its next start: the backoff delay (150, 300,
    // 600 ms) plus the time node takes to start the fake.
    const stream = events().filter((e) => e.args.includes('-lms'));
    const delays: number[] = [];
    stream.forEach((e, i) => {
      const next = stream[i + 1];
      if (e.event === 'exit' && next?.event === 'start') delays.push(next.t - e.t);
    });
    expect(delays.length).toBeGreaterThanOrEqual(3);
    expect(delays[0]).toBeGreaterThanOrEqual(150);
    expect(delays[1]).toBeGreaterThanOrEqual(300);
    expect(delays[2]).toBeGreaterThanOrEqual(600);
    // Growing: the third wait is longer than the first (by 450 ms of backoff; node's start-up
    // time, which a loaded machine stretches, is in both).
    expect(delays[2]!).toBeGreaterThan(delays[0]!);
    const runs = streamStarts();
    // Values from a restarted process arrive too.
    const after = runs[3]!.t;
    await waitFor(async () => (Date.now() > after + INTERVAL_MS && 'gpu.0.util' in (await sample(collector)) ? true : undefined), 3000, 'values after a restart');
  });

  it('falls back to the core field list when nvidia-smi rejects a field (older driver)', async () => {
    process.env.FAKE_NVSMI_REJECT = 'temperature.memory';
    const collector = await detect(createNvidiaGpuCollector({ backoff: { initialMs: 50, jitter: 0 } }));
    const values = await valuesFrom(collector, 5000);
    expect(values['gpu.0.util']).toBe(99);
    expect(values).not.toHaveProperty('gpu.0.temp.mem');
    const runs = streamStarts();
    expect(runs.map((s) => s.args[0])).toEqual([`--query-gpu=${STREAM_FIELDS.join(',')}`, `--query-gpu=${CORE_STREAM_FIELDS.join(',')}`]);
  });

  it('close() stops the -lms process', async () => {
    const collector = await detect();
    await valuesFrom(collector);
    const pid = streamStarts()[0]!.pid;
    await collector.close?.();
    open = [];
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
