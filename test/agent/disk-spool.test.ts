// The on-disk spool against real files in temp dirs: what is pushed survives a restart (a new
// instance on the same directory), acks are remembered, a torn or corrupted record costs only
// itself and what follows in its segment, finished segments are deleted, and the byte and age
// bounds drop the oldest batches with exact counts. An unusable directory is reported, not
// fatal, and the spool goes back to disk by itself once the directory can be written.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../../agent/agent.js';
import { DiskSpool, encodeRecord, type DiskSpoolOptions } from '../../agent/transport/disk-spool.js';
import { SeqIndex, type SpooledBatch } from '../../agent/transport/spool.js';
import type { Collector } from '../../agent/collectors/collector.js';
import { silentLogger } from '../../shared/log.js';
import { eventually } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const batch = (seq: number, n = 1, dropped?: number): SpooledBatch => ({
  seq,
  samples: Array.from({ length: n }, (_, i) => ({ t: 1_700_000_000_000 + seq * 1000 + i, m: { 'cpu.util': seq, 'mem.used': i } })),
  ...(dropped ? { dropped } : {}),
});
/** Bytes one record of batch(seq, n) takes on disk (all test seqs encode to the same length). */
const recordBytes = (n = 1) => encodeRecord(batch(1, n), 0).length;

function captureLogger() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines, warnings: () => lines.filter((l) => l.level === 40), errors: () => lines.filter((l) => l.level === 50) };
}

const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();
const seqs = (spool: { pendingSeqs(): Iterable<number> }) => [...spool.pendingSeqs()];

describe('DiskSpool', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });
  const open = (opts: Partial<DiskSpoolOptions> & { dir: string }) => {
    const spool = DiskSpool.open({ log: silentLogger(), ...opts });
    cleanups.push(() => spool.close());
    return spool;
  };
  const dir = () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    return join(tmp.dir, 'spool');
  };

  it('keeps pushed batches across a restart, oldest first, and forgets acked ones', () => {
    const d = dir();
    const first = open({ dir: d });
    for (let s = 1; s <= 5; s++) first.push(batch(s, 2, s === 4 ? 7 : undefined));
    first.ack(1);
    expect(seqs(first)).toEqual([2, 3, 4, 5]);
    expect(first.read(4)).toEqual(batch(4, 2, 7));
    first.close();

    const second = open({ dir: d });
    expect(second.reloaded).toBe(4);
    expect(second.batchCount).toBe(4);
    // Read back from disk: samples and the carried drop count are intact.
    expect([...second.pending()]).toEqual([batch(2, 2), batch(3, 2), batch(4, 2, 7), batch(5, 2)]);
    expect(second.lastSeq()).toBe(5);
    // New batches (the agent's next sequence block) follow the reloaded ones.
    second.push(batch(10_001));
    expect(seqs(second)).toEqual([2, 3, 4, 5, 10_001]);
  });

  it('remembers the ack watermark, and after a crash (no close) still has every unacked batch', () => {
    const d = dir();
    const first = open({ dir: d });
    for (let s = 1; s <= 6; s++) first.push(batch(s));
    [1, 2, 3, 5].forEach((s) => first.ack(s));
    first.close();
    expect(JSON.parse(readFileSync(join(d, 'acked'), 'utf8'))).toEqual({ through: 3 });
    // 5 was acked out of order, above the watermark: resent once more (the hub dedupes).
    const second = open({ dir: d });
    expect(seqs(second)).toEqual([4, 5, 6]);

    // A "crash": the instance is abandoned without close(); every push was fsync'd.
    second.push(batch(7));
    const third = DiskSpool.open({ dir: d, log: silentLogger() });
    cleanups.push(() => third.close());
    expect(seqs(third)).toEqual([4, 5, 6, 7]);
    expect(third.read(7)).toEqual(batch(7));
  });

  it('skips a torn tail with a warning and keeps the records before it', () => {
    const d = dir();
    const first = open({ dir: d });
    for (let s = 1; s <= 5; s++) first.push(batch(s));
    first.close();
    const [file] = segments(d);
    // Power lost halfway through writing the fifth record.
    truncateSync(join(d, file!), 4 * recordBytes() + Math.floor(recordBytes() / 2));

    const cap = captureLogger();
    const second = DiskSpool.open({ dir: d, log: cap.log });
    cleanups.push(() => second.close());
    expect(seqs(second)).toEqual([1, 2, 3, 4]);
    expect([...second.pending()].map((b) => b.samples[0]!.m['cpu.util'])).toEqual([1, 2, 3, 4]);
    expect(cap.warnings()).toEqual([expect.objectContaining({ problem: 'record runs past the end of the file', offset: 4 * recordBytes() })]);
  });

  it('skips a corrupted record and the rest of its segment, keeping earlier records and other segments', () => {
    const d = dir();
    // Three records per segment: 1–3, 4–6, 7–9.
    const first = open({ dir: d, segmentBytes: 3 * recordBytes() });
    for (let s = 1; s <= 9; s++) first.push(batch(s));
    first.close();
    const files = segments(d);
    expect(files).toHaveLength(3);
    // Flip one byte inside the JSON of the second record of the middle segment (seq 5).
    const path = join(d, files[1]!);
    const bytes = readFileSync(path);
    bytes[recordBytes() + 40]! ^= 0xff;
    writeFileSync(path, bytes);

    const cap = captureLogger();
    const second = DiskSpool.open({ dir: d, log: cap.log });
    cleanups.push(() => second.close());
    expect(seqs(second)).toEqual([1, 2, 3, 4, 7, 8, 9]);
    expect(cap.warnings()).toEqual([expect.objectContaining({ problem: 'checksum mismatch', offset: recordBytes(), skippedBytes: 2 * recordBytes() })]);
  });

  it('deletes a segment once every batch in it is acked', () => {
    const d = dir();
    const spool = open({ dir: d, segmentBytes: 3 * recordBytes() });
    for (let s = 1; s <= 7; s++) spool.push(batch(s));
    expect(segments(d)).toHaveLength(3); // 1–3, 4–6, 7 (active)
    [1, 3].forEach((s) => spool.ack(s));
    expect(segments(d)).toHaveLength(3);
    spool.ack(2);
    expect(segments(d)).toHaveLength(2);
    expect(spool.bytes).toBe(4 * recordBytes());
    [4, 5, 6, 7].forEach((s) => spool.ack(s));
    // The active segment stays open (it is empty of unacked batches) until close.
    expect(segments(d)).toHaveLength(1);
    spool.close();
    expect(segments(d)).toHaveLength(0);
  });

  it('drops the oldest segment beyond maxBytes and reports exactly its unacked samples', () => {
    const d = dir();
    const cap = captureLogger();
    const spool = DiskSpool.open({ dir: d, log: cap.log, segmentBytes: 3 * recordBytes(2), maxBytes: 6 * recordBytes(2) });
    cleanups.push(() => spool.close());
    spool.push(batch(1, 2));
    spool.push(batch(2, 2, 5)); // carries 5 samples dropped earlier, not yet reported
    spool.push(batch(3, 2));
    spool.ack(1);
    for (let s = 4; s <= 6; s++) spool.push(batch(s, 2));
    expect(spool.takeDropped()).toBe(0);
    spool.push(batch(7, 2)); // 7 records > 6: segment 1–3 goes; 2 and 3 were unacked
    expect(seqs(spool)).toEqual([4, 5, 6, 7]);
    expect(spool.takeDropped()).toBe(2 + 5 + 2);
    expect(spool.takeDropped()).toBe(0);
    expect(spool.droppedTotal).toBe(4);
    expect(spool.bytes).toBe(4 * recordBytes(2));
    expect(segments(d)).toHaveLength(2);
    expect(cap.warnings()).toEqual([expect.objectContaining({ msg: expect.stringMatching(/spool full/), batches: 2, samples: 4 })]);
  });

  it('drops batches older than maxAgeMs, when pushing and when reopening, with exact counts', () => {
    const d = dir();
    let now = 1_000_000;
    const clock = () => now;
    const spool = open({ dir: d, maxAgeMs: 10_000, now: clock });
    spool.push(batch(1, 3));
    now += 1000;
    spool.push(batch(2, 1));
    now += 5000;
    spool.push(batch(3, 2));
    now = 1_000_000 + 10_500; // batch 1 is 10.5 s old, 2 is 9.5 s old
    spool.push(batch(4, 1));
    expect(seqs(spool)).toEqual([2, 3, 4]);
    expect(spool.takeDropped()).toBe(3);
    spool.close();

    now += 6000; // 2 and 3 are now past the limit, 4 is 6 s old
    const cap = captureLogger();
    const again = DiskSpool.open({ dir: d, log: cap.log, maxAgeMs: 10_000, now: clock });
    cleanups.push(() => again.close());
    expect(seqs(again)).toEqual([4]);
    expect(again.takeDropped()).toBe(1 + 2);
    expect(cap.warnings()).toEqual([expect.objectContaining({ batches: 2, samples: 3 })]);
  });

  it('opens on memory where the directory cannot be created, and moves to disk by itself once it can', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const file = join(tmp.dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const d = join(file, 'spool');
    const cap = captureLogger();
    const spool = DiskSpool.open({ dir: d, log: cap.log, probeMs: 50 });
    cleanups.push(() => spool.close());
    expect(spool.degraded).toBe(true);
    const clocked: SpooledBatch = { ...batch(2), clock: { boot: 'b0a7e1d2-0000-4000-8000-000000000001', mono: 12_345, wall: 1_700_000_002_000 } };
    [batch(1, 2), clocked, batch(3, 1, 4)].forEach((b) => spool.push(b));
    expect(seqs(spool)).toEqual([1, 2, 3]);
    // Several probes fail meanwhile: still one error, naming the path and what happens next.
    await new Promise((r) => setTimeout(r, 200));
    expect(spool.degraded).toBe(true);
    expect(cap.errors()).toHaveLength(1);
    expect(cap.errors()[0]!.msg).toMatch(new RegExp(`cannot write to ${d}.*in memory only.*tries again every 50 ms and moves back to disk by itself`));

    // The disk is fixed: the timer's probe writes memory to a segment, oldest first.
    unlinkSync(file);
    await eventually('the spool back on disk', () => !spool.degraded, 5000, 20);
    expect(segments(d)).toHaveLength(1);
    expect(cap.lines.filter((l) => /writable again/.test(l.msg))).toEqual([expect.objectContaining({ batches: 3, samples: 4 })]);
    spool.push(batch(4));
    expect([...spool.pending()]).toEqual([batch(1, 2), clocked, batch(3, 1, 4), batch(4)]);
    spool.close();
    // On disk for real: a new instance reads all four back, every field intact.
    const again = open({ dir: d });
    expect(again.reloaded).toBe(4);
    expect([...again.pending()]).toEqual([batch(1, 2), clocked, batch(3, 1, 4), batch(4)]);
  });

  it('after a disk-full fallback, probes until space returns, then moves memory to disk: nothing lost, order kept, no duplicates', () => {
    const d = dir();
    const cap = captureLogger();
    const spool = DiskSpool.open({ dir: d, log: cap.log, segmentBytes: 2 * recordBytes(), probeMs: 60_000 });
    cleanups.push(() => spool.close());
    spool.push(batch(1));
    spool.push(batch(2));
    // The next three segment numbers are /dev/full: the roll and two probes fail with ENOSPC.
    const next = segments(d).map((f) => Number(f.slice(0, 16)))[0]! + 1;
    const full = [0, 1, 2].map((i) => join(d, `${String(next + i).padStart(16, '0')}.seg`));
    full.forEach((f) => symlinkSync('/dev/full', f));
    spool.push(batch(3));
    spool.push(batch(4));
    expect(spool.degraded).toBe(true);
    expect(spool.probe()).toBe(false);
    expect(spool.degraded).toBe(true);
    expect(cap.errors()).toHaveLength(1);
    spool.push(batch(5));
    // Space is back.
    for (const f of full) rmSync(f, { force: true });
    expect(spool.probe()).toBe(true);
    expect(spool.degraded).toBe(false);
    expect(spool.takeDropped()).toBe(0);
    spool.push(batch(6));
    expect(seqs(spool)).toEqual([1, 2, 3, 4, 5, 6]);
    spool.ack(1);
    spool.close();
    const again = open({ dir: d });
    expect([...again.pending()]).toEqual([2, 3, 4, 5, 6].map((s) => batch(s)));
    expect(cap.errors()).toHaveLength(1);
  });

  it('when the disk fills again halfway through moving memory back, keeps what it moved on disk and the rest in memory, in order', () => {
    const d = dir();
    const cap = captureLogger();
    const spool = DiskSpool.open({ dir: d, log: cap.log, segmentBytes: 2 * recordBytes(), probeMs: 60_000 });
    cleanups.push(() => spool.close());
    const first = Number(segments(d)[0]!.slice(0, 16));
    const segPath = (n: number) => join(d, `${String(n).padStart(16, '0')}.seg`);
    // The active segment is empty: replace it by /dev/full, so the first push fails.
    spool.push(batch(1));
    spool.push(batch(2));
    symlinkSync('/dev/full', segPath(first + 1));
    for (let s = 3; s <= 6; s++) spool.push(batch(s));
    expect(spool.degraded).toBe(true);
    // The probe's segment takes two records; the roll after it hits /dev/full again.
    symlinkSync('/dev/full', segPath(first + 3));
    expect(spool.probe()).toBe(false);
    expect(readdirSync(d).filter((f) => f.endsWith('.seg')).length).toBeGreaterThanOrEqual(2);
    expect(seqs(spool)).toEqual([1, 2, 3, 4, 5, 6]);
    rmSync(segPath(first + 3), { force: true });
    expect(spool.probe()).toBe(true);
    expect([...spool.pending()].map((b) => b.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    spool.close();
    expect([...open({ dir: d }).pending()]).toEqual([1, 2, 3, 4, 5, 6].map((s) => batch(s)));
    expect(cap.errors()).toHaveLength(1);
  });

  it('falls back to memory when a write fails (disk full), logs one error, and loses nothing it holds', () => {
    const d = dir();
    const cap = captureLogger();
    const spool = DiskSpool.open({ dir: d, log: cap.log, segmentBytes: 2 * recordBytes(), fallbackMaxSamples: 3 });
    cleanups.push(() => spool.close());
    spool.push(batch(1));
    spool.push(batch(2));
    // The next segment is /dev/full: the write after the roll fails with ENOSPC.
    const next = segments(d).map((f) => Number(f.slice(0, 16)))[0]! + 1;
    symlinkSync('/dev/full', join(d, `${String(next).padStart(16, '0')}.seg`));
    for (let s = 3; s <= 6; s++) spool.push(batch(s));
    expect(spool.degraded).toBe(true);
    expect(cap.errors()).toHaveLength(1);
    expect(cap.errors()[0]!.msg).toMatch(new RegExp(`cannot write to ${d}.*ENOSPC.*Free space`));
    // 1–2 on disk, 4–6 in memory (3 samples at most: 3 was dropped and counted).
    expect(seqs(spool)).toEqual([1, 2, 4, 5, 6]);
    expect(spool.takeDropped()).toBe(1);
    expect([...spool.pending()].map((b) => b.seq)).toEqual([1, 2, 4, 5, 6]);
    spool.ack(5);
    expect(seqs(spool)).toEqual([1, 2, 4, 6]);
  });

  it('keeps a one-hour backlog at 1 Hz on disk, not in memory: the index holds no samples', () => {
    const d = dir();
    const spool = open({ dir: d, syncEveryMs: 1000 });
    for (let s = 1; s <= 3600; s++) spool.push(batch(s));
    expect(spool.batchCount).toBe(3600);
    const onDisk = segments(d).reduce((sum, f) => sum + readFileSync(join(d, f)).length, 0);
    expect(spool.bytes).toBe(onDisk);
    expect(onDisk).toBeGreaterThan(3600 * recordBytes());
    // Batches are read back on demand: the same sample twice is two distinct objects.
    expect(spool.read(1800)).toEqual(batch(1800));
    expect(spool.read(1800)).not.toBe(spool.read(1800));
  });
});

describe('SeqIndex', () => {
  it('iterates from a sequence number, skipping deleted ones, even while deleting during iteration', () => {
    const index = new SeqIndex<number>();
    for (let s = 1; s <= 5000; s++) index.set(s, s);
    for (let s = 1; s <= 2000; s++) if (s % 2 === 0) index.delete(s);
    expect([...index.from(1995)]).toEqual([1995, 1997, 1999, ...Array.from({ length: 3000 }, (_, i) => 2001 + i)]);
    const seen: number[] = [];
    for (const s of index.from()) {
      seen.push(s);
      if (s < 4000) index.delete(s); // forces compactions mid-iteration
    }
    expect(seen).toEqual([...Array.from({ length: 1000 }, (_, i) => 2 * i + 1), ...Array.from({ length: 3000 }, (_, i) => 2001 + i)]);
    expect(index.first()).toBe(4000);
    expect(index.last()).toBe(5000);
    index.set(3, 3); // out of order: kept sorted
    expect([...index.from()].slice(0, 2)).toEqual([3, 4000]);
  });
});

describe('startAgent spool choice', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const counter: Collector = { name: 'counter', sample: (_now, out) => void (out['test.n'] = 1) };
  const start = (stateDir: string, log = silentLogger()) =>
    startAgent({
      hubUrl: 'ws://127.0.0.1:9/ws/agent', // nothing listens: batches stay spooled
      intervalMs: 500,
      stateDir,
      deviceId: 'spool-choice',
      collectors: [{ name: 'counter', detect: async () => counter }],
      processIntervalMs: 0,
      inferencePort: null,
      skipInventory: true,
      log,
    });

  it('spools to <stateDir>/spool by default', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const agent = await start(tmp.dir);
    cleanups.push(() => agent.stop());
    expect(agent.spool).toBeInstanceOf(DiskSpool);
    await eventually('a batch on disk', () => agent.spool.batchCount > 0, 5000, 50);
    expect(segments(join(tmp.dir, 'spool')).length).toBeGreaterThan(0);
  });

  it('keeps batches in memory, with one error naming the path and what to do, when the spool directory cannot be made, and moves them to disk once it can', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    mkdirSync(join(tmp.dir, 'state'));
    writeFileSync(join(tmp.dir, 'state', 'spool'), 'a regular file where the spool directory should be');
    const cap = captureLogger();
    const agent = await start(join(tmp.dir, 'state'), cap.log);
    cleanups.push(() => agent.stop());
    const spool = agent.spool as DiskSpool;
    expect(spool.degraded).toBe(true);
    const errors = cap.errors();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toContain(join(tmp.dir, 'state', 'spool'));
    expect(errors[0]!.msg).toMatch(/in memory only.*writable/);
    // The agent keeps sampling.
    await eventually('a batch in memory', () => agent.spool.batchCount > 0, 5000, 50);
    expect(existsSync(join(tmp.dir, 'state', 'agent-state.json'))).toBe(true);
    // The file is moved away: within a probe (3 s) the backlog is in a segment.
    unlinkSync(join(tmp.dir, 'state', 'spool'));
    await eventually('the spool back on disk', () => !spool.degraded, 10_000, 100);
    expect(segments(join(tmp.dir, 'state', 'spool')).length).toBeGreaterThan(0);
    expect(cap.errors()).toHaveLength(1);
  });
});
