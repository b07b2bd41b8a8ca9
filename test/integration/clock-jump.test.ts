// A board without an RTC runs 3 h ahead while the hub is unreachable: a real agent process
// spools its samples to disk stamped +3 h; then NTP steps its clock back; then the hub comes
// up and the backlog is delivered. Before clock steps were stamped (boot id + monotonic time)
// the hub took that backlog for data from the future, refused it, and the agent dropped it.
//
// The agent's wall clock is moved by Debian's libfaketime (LD_PRELOAD), with the offset read
// from a file on every call (FAKETIME_NO_CACHE) so it can be changed while the agent runs,
// and the monotonic clock left real (FAKETIME_DONT_FAKE_MONOTONIC), as NTP leaves it. The hub
// runs in this process on the real clock. Missing libfaketime skips; with
// EDGEWATCH_REQUIRE_ENGINES=1 (CI, which installs package faketime) it fails.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import type { DeviceResponse } from '../../shared/live.js';
import { silentLogger } from '../../shared/log.js';
import { eventually, freePort, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const LIBFAKETIME = [
  process.env.EDGEWATCH_LIBFAKETIME,
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
].find((p): p is string => !!p && existsSync(p));
const REQUIRED = process.env.EDGEWATCH_REQUIRE_ENGINES === '1';

const AHEAD_MS = 3 * 3_600_000;
const INTERVAL_MS = 500;
const BACKLOG = 20;

/**
 * Sample times of the records in the agent's spool segments (disk-spool.ts format: u32 length,
 * u32 crc, then seq, writtenAt, count, dropped and the JSON). Read from outside, as files.
 */
function spooledTimes(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const times: number[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.seg'))) {
    let buf: Buffer;
    try {
      buf = readFileSync(join(dir, name));
    } catch {
      continue; // deleted meanwhile
    }
    let off = 0;
    while (off + 8 + 24 <= buf.length) {
      const len = buf.readUInt32LE(off);
      if (off + 8 + len > buf.length) break; // being written
      const json = JSON.parse(buf.subarray(off + 8 + 24, off + 8 + len).toString('utf8')) as { t: number }[] | { s: { t: number }[] };
      for (const s of Array.isArray(json) ? json : json.s) times.push(s.t);
      off += 8 + len;
    }
  }
  return times;
}

describe('a device clock 3 h ahead, fixed while its backlog waits in the disk spool (real agent, libfaketime)', () => {
  if (!LIBFAKETIME) {
    it.skipIf(!REQUIRED)('needs libfaketime', () => {
      throw new Error('libfaketime is not installed: apt-get install faketime (or point EDGEWATCH_LIBFAKETIME at libfaketime.so.1), or unset EDGEWATCH_REQUIRE_ENGINES to skip this test');
    });
    return;
  }

  const tmp = tempDir();
  let agent: CliProcess | undefined;
  let hub: Hub | undefined;
  afterAll(async () => {
    await agent?.kill();
    await hub?.close();
    tmp.remove();
  });

  it('stores every spooled sample at the time it was really taken, and records one clock event', async () => {
    const port = await freePort();
    const stateDir = join(tmp.dir, 'agent-state');
    const offsetFile = join(tmp.dir, 'faketime.rc');
    writeFileSync(offsetFile, '+3h\n');
    const realStart = Date.now();
    // Nothing listens on `port` yet: the hub is unreachable, the agent spools.
    agent = spawnCli(
      ['agent', '--hub', `ws://127.0.0.1:${port}`, '--id', 'rtc-less', '--interval', `${INTERVAL_MS}ms`, '--inference-port', '0', '--process-interval', '0', '--state-dir', stateDir],
      { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: offsetFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' },
    );
    const spoolDir = join(stateDir, 'spool');
    const ahead = (): number[] => spooledTimes(spoolDir).filter((t) => t > Date.now() + AHEAD_MS - 60_000);
    await eventually(`${BACKLOG} samples spooled 3 h ahead (agent log: ${agent.output().slice(-2000)})`, () => ahead().length >= BACKLOG, 40_000, 250);

    // NTP steps the clock back to the right time, the backlog still waiting.
    writeFileSync(offsetFile, '+0\n');
    const fixedAt = Date.now();
    const spooledAhead = ahead().length;
    // A few samples on the right clock before the hub comes back.
    await eventually('a sample spooled on the right clock', () => spooledTimes(spoolDir).some((t) => Math.abs(t - Date.now()) < 10_000), 10_000, 100);

    hub = await startHub({ port, host: '127.0.0.1', dataDir: join(tmp.dir, 'hub'), log: silentLogger() });
    const h = hub;
    // Delivered when the hub has a sample for every seq up to its newest, past the backlog.
    const a = agent;
    const stored = (num: number): number[] =>
      (h.store.rawSamples(num, ['mem.total'], 0, Number.MAX_SAFE_INTEGER)['mem.total'] ?? []).map(([t]) => t).sort((x, y) => x - y);
    const row = await eventually(
      'the backlog delivered',
      () => {
        const d = h.store.getDevice('rtc-less');
        return d && d.lastSeq !== null && d.lastSeq > spooledAhead + 2 && stored(d.num).length >= d.lastSeq ? d : undefined;
      },
      60_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; hub lastSeq ${h.store.getDevice('rtc-less')?.lastSeq}; agent log: ${a.output().slice(-4000)}`);
    });
    const lastSeq = row.lastSeq!;
    const times = stored(row.num);
    const hubNow = Date.now();

    // Every sample is stored (one per batch, seqs from 1), none refused as future.
    expect(times.length).toBeGreaterThanOrEqual(lastSeq);
    expect(h.store.getDevice('rtc-less')!.rejectedSamples).toBe(0);
    // All on the real timeline: nothing 3 h ahead, nothing before the agent started.
    expect(times[0]!).toBeGreaterThanOrEqual(realStart - 3000);
    expect(times.at(-1)!).toBeLessThanOrEqual(hubNow + 3000);
    // The ones spooled on the wrong clock landed where they were really taken: between the
    // agent's start and the clock fix (a few seconds of slack for rounding and start-up).
    const beforeFix = times.filter((t) => t <= fixedAt + 3000);
    expect(beforeFix.length).toBeGreaterThanOrEqual(spooledAhead);
    // …and keep their spacing: one interval apart, not piled onto one moment.
    const gaps = beforeFix.slice(1).map((t, i) => t - beforeFix[i]!);
    expect(Math.min(...gaps)).toBeGreaterThan(0);

    const events = h.store.clockEvents(row.num);
    expect(events).toHaveLength(1);
    expect(events[0]!.stepMs).toBe(AHEAD_MS);
    expect(events[0]!.samples).toBeGreaterThanOrEqual(spooledAhead);
    expect(events[0]!.samples).toBeLessThanOrEqual(spooledAhead + 2);
    expect(events[0]!.firstT).toBeGreaterThanOrEqual(realStart - 3000);
    expect(events[0]!.lastT).toBeLessThanOrEqual(fixedAt + 3000);

    const body = (await (await fetch(`http://127.0.0.1:${port}/api/v1/devices/rtc-less`)).json()) as DeviceResponse;
    expect(body.clockEvents).toEqual(events);
  }, 150_000);
});
