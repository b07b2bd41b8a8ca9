// Secrets on a command line never reach the hub: a real `edgewatch hub` and two real
// `edgewatch agent`s on 127.0.0.1 (one with the default, `full` with secrets masked, one
// with `processCmdline: "name"` from its config file), and a child that spins a core with
// `--password hunter2 --token=abc123 AWS_SECRET_ACCESS_KEY=xyz` on its command line, so it is
// among the top processes by CPU. The REST table, every stored table (inflated) and the
// SQLite files' bytes are searched for the secrets.
import Database from 'better-sqlite3';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessesResponse } from '../../shared/live.js';
import type { ProcessRow } from '../../shared/protocol.js';
import { CLI, eventually, freePort, getJson, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const SECRETS = ['hunter2', 'abc123', 'xyz'];
const MARKER = `edgewatch-cmdline-marker-${process.pid}`;
const run = promisify(execFile);

describe('command-line secrets, agent → hub → SQLite, with real processes', () => {
  let tmp: ReturnType<typeof tempDir>;
  let base: string;
  let hub: CliProcess;
  const agents: CliProcess[] = [];
  let child: ChildProcess;

  beforeAll(async () => {
    tmp = tempDir('edgewatch-cmdline-');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    hub = spawnCli(['hub', '--no-auth', '--port', String(port), '--host', '127.0.0.1', '--data', tmp.dir]);
    try {
      await eventually('hub /healthz', async () => (await getJson<{ ok: boolean }>(`${base}/healthz`)).ok, 30_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nhub output:\n${hub.output().slice(-2000)}`);
    }
    // Spins one core for at most a minute (killed in afterAll): top by CPU on any machine.
    child = spawn(
      process.execPath,
      ['-e', 'const end = Date.now() + 60000; while (Date.now() < end) {}', '--', '--password', 'hunter2', '--token=abc123', 'AWS_SECRET_ACCESS_KEY=xyz', MARKER],
      { stdio: 'ignore' },
    );
    const common = ['--hub', `ws://127.0.0.1:${port}`, '--interval', '500', '--process-interval', '1000', '--top-processes', '50', '--inference-port', '0'];
    agents.push(spawnCli(['agent', ...common, '--id', 'cmdline-full', '--state-dir', join(tmp.dir, 'state-full')]));
    const config = join(tmp.dir, 'agent-name.json');
    writeFileSync(config, JSON.stringify({ processCmdline: 'name' }));
    agents.push(spawnCli(['agent', ...common, '--id', 'cmdline-name', '--state-dir', join(tmp.dir, 'state-name'), '--config', config]));
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await Promise.all(agents.map((a) => a.kill()));
    await hub?.kill();
    tmp?.remove();
  });

  /** The newest table of `device` once it has the child's row. */
  const tableWithChild = (device: string): Promise<{ rows: ProcessRow[]; row: ProcessRow }> =>
    eventually(
      `a process table from ${device} with the child (pid ${child.pid})`,
      async () => {
        const res = await getJson<ProcessesResponse>(`${base}/api/v1/devices/${device}/processes`);
        const row = res.table?.rows.find((r) => r.pid === child.pid);
        return row ? { rows: res.table!.rows, row } : null;
      },
      30_000,
    );

  it('stores the command line with the flag names but none of the secrets (default: full)', async () => {
    const { rows, row } = await tableWithChild('cmdline-full');
    expect(row.cmd).toContain('--password ***');
    expect(row.cmd).toContain('--token=***');
    expect(row.cmd).toContain('AWS_SECRET_ACCESS_KEY=***');
    expect(row.cmd).toContain(MARKER);
    const json = JSON.stringify(rows);
    for (const s of SECRETS) expect(json, `the REST table holds ${s}`).not.toContain(s);
  }, 40_000);

  it('stores only the executable name with processCmdline "name"', async () => {
    const { rows, row } = await tableWithChild('cmdline-name');
    expect(row.cmd).toBe(basename(process.execPath));
    for (const r of rows) {
      // One word per row (kernel threads keep their `[comm]`).
      if (!r.cmd.startsWith('[')) expect(r.cmd, `pid ${r.pid}`).not.toMatch(/\s/);
      expect(r.cmd).not.toContain(MARKER);
    }
    const json = JSON.stringify(rows);
    for (const s of SECRETS) expect(json).not.toContain(s);
  }, 40_000);

  it('keeps no secret anywhere in the database: not in any stored table, not in the files', async () => {
    const dbFile = join(tmp.dir, 'edgewatch.db');
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    let tables: string[];
    try {
      tables = (db.prepare('SELECT rows FROM process_snapshots').pluck().all() as Buffer[]).map((blob) => inflateRawSync(blob).toString('utf8'));
    } finally {
      db.close();
    }
    expect(tables.length).toBeGreaterThan(0);
    // Positive control: the child is in the stored tables, masked.
    expect(tables.some((t) => t.includes(MARKER) && t.includes('--password ***'))).toBe(true);
    for (const t of tables) for (const s of SECRETS) expect(t.includes(s), `a stored table holds ${s}`).toBe(false);
    for (const file of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`].filter((f) => existsSync(f))) {
      const bytes = readFileSync(file);
      for (const s of [...SECRETS, 'AWS_SECRET_ACCESS_KEY=xyz']) expect(bytes.includes(s), `${basename(file)} holds ${s}`).toBe(false);
    }
  });

  it('rejects a mode it does not know, on the command line and in the config file', async () => {
    const flag = await run(process.execPath, [CLI, 'agent', '--process-cmdline', 'raw', '--print-config']).catch((e: { code: number; stderr: string }) => e);
    expect((flag as { code: number }).code).not.toBe(0);
    expect((flag as { stderr: string }).stderr).toMatch(/--process-cmdline.*raw.*(none, name, full|choices)/s);
    const config = join(tmp.dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ processCmdline: 'raw' }));
    const file = await run(process.execPath, [CLI, 'agent', '--config', config, '--print-config']).catch((e: { code: number; stderr: string }) => e);
    expect((file as { code: number }).code).not.toBe(0);
    expect((file as { stderr: string }).stderr).toMatch(/processCmdline/);
    const ok = await run(process.execPath, [CLI, 'agent', '--print-config'], { env: { ...process.env, EDGEWATCH_PROCESS_CMDLINE: 'none' } });
    expect(JSON.parse(ok.stdout)).toMatchObject({ processCmdline: 'none' });
  });
});
