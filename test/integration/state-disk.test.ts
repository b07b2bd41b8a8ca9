// A state directory that fails under a real `edgewatch agent` process: a tmpfs mounted
// read-only, and a tiny tmpfs filled to the last byte, each as --state-dir. The agent must
// start and stream to a real hub anyway (id and sequence numbers in memory, spool in memory,
// one warning each), and once the filesystem is writable again (remount rw, space freed) put
// agent-state.json and spool segments there by itself, without a restart, losing nothing.
//
// Mounting needs root (CAP_SYS_ADMIN). Without it these tests skip, saying why, unless
// EDGEWATCH_REQUIRE_ENGINES=1 (CI runs as root), where the missing permission fails them.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceSummary } from '../../shared/live.js';
import { REQUIRE_ENGINES } from '../helpers/engines.js';
import { eventually, freePort, getJson, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const INTERVAL_MS = 500;
/** The agent's probe interval (DiskSpool and AgentState default): recovery is expected within a few of them. */
const PROBE_MS = 3000;

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

/** Why tmpfs cannot be mounted here, or null when it can (tried once, on a scratch dir). */
function mountProblem(): string | null {
  const scratch = tempDir();
  try {
    const r = run('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', scratch.dir]);
    if (!r.ok) return `mount -t tmpfs failed (${r.out || 'no output'}): these tests need root or CAP_SYS_ADMIN`;
    run('umount', [scratch.dir]);
    return null;
  } finally {
    scratch.remove();
  }
}

const problem = mountProblem();
if (problem && !REQUIRE_ENGINES) console.warn(`state-disk tests skipped: ${problem}`);

interface LogLine {
  level: number;
  msg: string;
  part?: string;
  deviceId?: string;
  [k: string]: unknown;
}
const logLines = (p: CliProcess): LogLine[] =>
  p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

describe.skipIf(problem !== null && !REQUIRE_ENGINES)('agent with a read-only or full state directory (real processes, real tmpfs)', () => {
  let tmp: ReturnType<typeof tempDir>;
  const mounts: string[] = [];
  const processes: CliProcess[] = [];

  beforeAll(() => {
    if (problem) throw new Error(`EDGEWATCH_REQUIRE_ENGINES=1 but ${problem}`);
    tmp = tempDir();
  });

  afterAll(async () => {
    // Processes first: a mount with open files cannot be unmounted (and -l would hide a leak).
    for (const p of processes.reverse()) await p.kill();
    for (const m of mounts.reverse()) {
      const r = run('umount', [m]);
      if (!r.ok) run('umount', ['-l', m]);
    }
    tmp?.remove();
  });

  const mountTmpfs = (name: string, options: string): string => {
    const dir = join(tmp.dir, name);
    mkdirSync(dir);
    const r = run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
    if (!r.ok) throw new Error(`mount -t tmpfs -o ${options} tmpfs ${dir} failed: ${r.out}`);
    mounts.push(dir);
    return dir;
  };

  const startHub = async (port: number, dataDir: string): Promise<CliProcess> => {
    const hub = spawnCli(['hub', '--no-auth', '--port', String(port), '--host', '127.0.0.1', '--data', dataDir], { EDGEWATCH_LOG_FORMAT: 'json' });
    processes.push(hub);
    try {
      await eventually('hub /healthz', async () => (await getJson<{ ok: boolean }>(`http://127.0.0.1:${port}/healthz`)).ok, 20_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}; hub output:\n${hub.output().slice(-3000)}`);
    }
    return hub;
  };

  const startAgent = (port: number, stateDir: string, name: string): CliProcess => {
    const agent = spawnCli(
      ['agent', '--hub', `ws://127.0.0.1:${port}`, '--interval', String(INTERVAL_MS), '--state-dir', stateDir, '--name', name, '--process-interval', '0', '--inference-port', '0'],
      { EDGEWATCH_LOG_FORMAT: 'json' },
    );
    processes.push(agent);
    return agent;
  };

  const devicesNamed = async (port: number, name: string): Promise<DeviceSummary[]> =>
    (await getJson<{ devices: DeviceSummary[] }>(`http://127.0.0.1:${port}/api/v1/devices`)).devices.filter((d) => d.name === name);

  /** The committed batches of a device (seq, first sample time on the device clock), from the hub's SQLite file. */
  const committed = (dataDir: string, deviceId: string): { seq: number; tFirst: number }[] => {
    const db = new Database(join(dataDir, 'edgewatch.db'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT b.seq, b.t_first AS tFirst FROM batches b JOIN devices d ON d.num = b.device_num WHERE d.id = ? ORDER BY b.seq').all(deviceId) as { seq: number; tFirst: number }[];
    } finally {
      db.close();
    }
  };
  const committedSeqs = (dataDir: string, deviceId: string): number[] => committed(dataDir, deviceId).map((b) => b.seq);

  const agentId = (agent: CliProcess): string | undefined => logLines(agent).find((l) => l.msg === 'agent started')?.deviceId;
  /** The id the agent announced at start; fails with its output when it did not start. */
  const startedId = async (agent: CliProcess): Promise<string> => {
    try {
      return await eventually('the agent to start', () => agentId(agent), 20_000, 100);
    } catch (err) {
      throw new Error(`${(err as Error).message}; agent output:\n${agent.output().slice(-3000)}`);
    }
  };
  const segmentsIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.seg')) : []);

  /** seqs is one run of consecutive numbers: nothing lost or stored twice in between. */
  const expectConsecutive = (seqs: number[]) => expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));

  it('streams from a read-only state dir with one warning, and persists its id and spool once the dir is remounted read-write', async () => {
    const testStart = Date.now();
    const port = await freePort();
    const dataDir = join(tmp.dir, 'hub-ro');
    await startHub(port, dataDir);
    const stateDir = mountTmpfs('ro-state', 'ro,size=1m');
    const agent = startAgent(port, stateDir, 'ro-device');

    const id = await startedId(agent);
    // Samples reach the hub, under that one id.
    await eventually('batches committed on the hub', () => committedSeqs(dataDir, id).length >= 4, 20_000, 200);
    // Two probe intervals go by: the failure is said once, not at every retry.
    await new Promise((r) => setTimeout(r, 2 * PROBE_MS + 500));
    const lines = logLines(agent);
    const stateWarnings = lines.filter((l) => l.part === 'state' && l.level >= 40);
    expect(stateWarnings, agent.output().slice(-4000)).toHaveLength(1);
    expect(stateWarnings[0]!.msg).toContain(join(stateDir, 'agent-state.json'));
    expect(stateWarnings[0]!.msg).toMatch(/EROFS.*in memory only.*writable/);
    const spoolErrors = lines.filter((l) => l.part === 'spool' && l.level >= 40);
    expect(spoolErrors).toHaveLength(1);
    expect(spoolErrors[0]!.msg).toMatch(/EROFS.*in memory only.*moves back to disk by itself/);
    expect(existsSync(join(stateDir, 'agent-state.json'))).toBe(false);
    expect(await devicesNamed(port, 'ro-device')).toEqual([expect.objectContaining({ id, online: true })]);

    const r = run('mount', ['-o', 'remount,rw', stateDir]);
    expect(r.ok, r.out).toBe(true);
    await eventually('agent-state.json written', () => existsSync(join(stateDir, 'agent-state.json')), 4 * PROBE_MS, 100);
    const saved = JSON.parse(readFileSync(join(stateDir, 'agent-state.json'), 'utf8')) as { deviceId: string; seqReservedUntil: number };
    expect(saved.deviceId).toBe(id);
    await eventually('a spool segment on disk', () => segmentsIn(join(stateDir, 'spool')).length > 0, 4 * PROBE_MS, 100);
    const recovered = logLines(agent).filter((l) => /writable again/.test(l.msg));
    expect(recovered.map((l) => l.part).sort()).toEqual(['spool', 'state']);
    expect(agent.child.exitCode).toBeNull();

    // Streaming goes on through the switch, every batch once, with no gap. Unsaved at start,
    // the numbers begin at the clock (ms), not at 1 (see agent/state.ts).
    const before = committedSeqs(dataDir, id).length;
    await eventually('more batches after the recovery', () => committedSeqs(dataDir, id).length >= before + 3, 20_000, 200);
    const seqs = committedSeqs(dataDir, id);
    expectConsecutive(seqs);
    expect(seqs[0]).toBeGreaterThanOrEqual(testStart);
    expect(saved.seqReservedUntil).toBeGreaterThan(seqs.at(-1)!);

    // The id was really persisted: a restarted agent is the same device, not a second one.
    await agent.kill();
    const again = startAgent(port, stateDir, 'ro-device');
    expect(await startedId(again)).toBe(id);
    await eventually('batches from the restarted agent', () => committedSeqs(dataDir, id).at(-1)! > seqs.at(-1)!, 20_000, 200);
    expect(logLines(again).filter((l) => l.level >= 40 && (l.part === 'state' || l.part === 'spool'))).toEqual([]);
    expect((await devicesNamed(port, 'ro-device')).map((d) => d.id)).toEqual([id]);
    await again.kill();
  }, 90_000);

  it('starts on a full state disk, keeps the backlog in memory while the hub is away, and moves it to disk once space is freed', async () => {
    const stateDir = mountTmpfs('full-state', 'size=64k');
    // Fill it to the last byte (bounded: 64 KiB is at most 16 pages).
    const filler = join(stateDir, 'filler');
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(4096, 1);
    try {
      for (let i = 0; i < 1000; i++) writeSync(fd, chunk);
      throw new Error(`${stateDir} (tmpfs, size=64k) took 4 MB without ENOSPC: the size limit is not in effect`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    } finally {
      closeSync(fd);
    }
    expect(statSync(filler).size).toBeGreaterThan(0);

    // The hub is not up yet: every batch the agent makes waits in its spool.
    const port = await freePort();
    const agent = startAgent(port, stateDir, 'full-device');
    const id = await startedId(agent);
    await eventually('the spool to report the full disk', () => logLines(agent).some((l) => l.part === 'spool' && l.level >= 40), 10_000, 100);
    expect(logLines(agent).find((l) => l.part === 'state' && l.level >= 40)?.msg).toMatch(/ENOSPC.*in memory only/);
    // A few batches in memory.
    await new Promise((r) => setTimeout(r, 4 * INTERVAL_MS));
    expect(segmentsIn(join(stateDir, 'spool')).filter((f) => statSync(join(stateDir, 'spool', f)).size > 0)).toEqual([]);

    rmSync(filler);
    await eventually('the backlog in a spool segment', () => segmentsIn(join(stateDir, 'spool')).some((f) => statSync(join(stateDir, 'spool', f)).size > 0), 4 * PROBE_MS, 100);
    await eventually('agent-state.json written', () => existsSync(join(stateDir, 'agent-state.json')), 4 * PROBE_MS, 100);
    expect((JSON.parse(readFileSync(join(stateDir, 'agent-state.json'), 'utf8')) as { deviceId: string }).deviceId).toBe(id);
    const moved = logLines(agent).find((l) => l.part === 'spool' && /writable again/.test(l.msg));
    expect(moved?.batches).toBeGreaterThanOrEqual(3);

    // The hub comes up: the agent streams, and every batch from before and after the move arrives once, in a run 1, 2, 3, …
    const dataDir = join(tmp.dir, 'hub-full');
    await startHub(port, dataDir);
    await eventually('the backlog and live batches committed', () => committedSeqs(dataDir, id).length >= (moved!.batches as number) + 3, 30_000, 200);
    const seqs = committedSeqs(dataDir, id);
    expectConsecutive(seqs);
    expect(logLines(agent).filter((l) => l.part === 'spool' && l.level >= 40)).toHaveLength(1);
    expect((await devicesNamed(port, 'full-device')).map((d) => d.droppedSamples)).toEqual([0]);
    await agent.kill();
  }, 90_000);

  it('after a restart on a read-only dir with a stale state file, stores every batch spooled before the hub answered (no reused numbers)', async () => {
    const port = await freePort();
    const dataDir = join(tmp.dir, 'hub-stale');
    let hub = await startHub(port, dataDir);
    const stateDir = mountTmpfs('stale-state', 'size=1m');
    const startWithId = () => {
      const agent = spawnCli(
        ['agent', '--hub', `ws://127.0.0.1:${port}`, '--interval', String(INTERVAL_MS), '--state-dir', stateDir, '--id', 'stale-device', '--process-interval', '0', '--inference-port', '0'],
        { EDGEWATCH_LOG_FORMAT: 'json' },
      );
      processes.push(agent);
      return agent;
    };
    const first = startWithId();
    await eventually('batches from the first run', () => committedSeqs(dataDir, 'stale-device').length >= 4, 20_000, 200);
    await first.kill();
    const firstRun = committedSeqs(dataDir, 'stale-device');
    // As a run leaves it that went on past its reserved block after the disk failed: the file
    // says 2, the hub has 1…n. Then the filesystem is read-only, and the hub is away.
    writeFileSync(join(stateDir, 'agent-state.json'), JSON.stringify({ deviceId: 'stale-device', seqReservedUntil: 2 }) + '\n');
    await hub.kill();
    expect(run('mount', ['-o', 'remount,ro', stateDir]).ok).toBe(true);

    const second = startWithId();
    expect(await startedId(second)).toBe('stale-device');
    // Batches pile up in the memory spool with no hub to welcome the agent.
    await new Promise((r) => setTimeout(r, 6 * INTERVAL_MS));
    hub = await startHub(port, dataDir);
    // What the agent held when the hub welcomed it: every one of those must be stored.
    const connected = await eventually('the agent to connect', () => logLines(second).find((l) => l.msg.startsWith('connected to hub')), 20_000, 100);
    const backlog = connected.backlog as number;
    expect(backlog).toBeGreaterThanOrEqual(4);
    const known = new Set(firstRun);
    const secondRun = () => committed(dataDir, 'stale-device').filter((b) => !known.has(b.seq));
    await eventually('the backlog and some live batches committed', () => secondRun().length >= backlog + 2, 30_000, 200);
    // Before, the numbers restarted at the file's 2: the hub took 2…n for resends of the
    // first run and acked them unstored, so part of the backlog never arrived.
    const batches = secondRun();
    expect(batches.filter((b) => b.tFirst < (connected.time as number)).length).toBeGreaterThanOrEqual(backlog);
    const seqs = batches.map((b) => b.seq);
    expect(seqs[0]).toBeGreaterThan(firstRun.at(-1)!);
    expectConsecutive(seqs);
    await second.kill();
  }, 90_000);
});
