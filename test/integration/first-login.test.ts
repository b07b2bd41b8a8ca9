// The first dashboard password is never lost: a `start` (or `hub`) that fails after the hub
// created the admin user (its port taken, an agent option refused) keeps no admin whose
// password nobody saw, so the next start that succeeds prints a login that works.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, eventually, freePort, REPO_ROOT, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEWATCH_')));
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, timeout: 45_000, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function login(base: string, password: string): Promise<number> {
  const res = await fetch(`${base}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'admin', password }) });
  return res.status;
}

/** Something else on the port, as a user's other server would be. */
function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const procs: CliProcess[] = [];
const dirs: ReturnType<typeof tempDir>[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  dirs.forEach((d) => d.remove());
});
function scratch(): string {
  const d = tempDir('edgewatch-first-login-');
  dirs.push(d);
  return d.dir;
}

/** Starts `args` and resolves with the password of the login line it prints. */
async function startedLogin(args: string[]): Promise<{ proc: CliProcess; password: string }> {
  const proc = spawnCli(args);
  procs.push(proc);
  const line = await eventually('the login line', () => /\nlogin: user admin(?:, password (\S+)| \(.*\))\n/.exec(proc.output()), 45_000).catch((err: Error) => {
    throw new Error(`${err.message}; it printed:\n${proc.output().slice(-3000)}`);
  });
  expect(line[0], `it printed the reset hint, not the password:\n${proc.output().slice(-2000)}`).toMatch(/password \S+/);
  return { proc, password: line[1]! };
}

describe('the first login survives a failed first start', () => {
  it('start on a busy port fails clearly; the next start prints a login that works', async () => {
    const data = scratch();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const args = ['start', '--port', String(port), '--data', data, '--interval', '500ms', '--inference-port', '0'];

    const blocker = await occupy(port);
    const failed = await cli(args);
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    expect(failed.code, failed.stderr).not.toBe(0);
    expect(failed.stderr).toContain(`port ${port} on 127.0.0.1 is already in use: stop the other process or pass --port`);
    expect(failed.stdout).not.toMatch(/login:/);

    const { proc, password } = await startedLogin(args);
    expect(await login(base, password)).toBe(204);
    await proc.kill();

    // Started once for real, it does not print a password again: that one stays the login.
    const again = spawnCli(args);
    procs.push(again);
    await eventually('the second start', () => /edgewatch is running/.test(again.output()), 45_000);
    expect(again.output()).toContain(`login: user admin (password printed at first start; reset with: edgewatch admin-password --data ${data})`);
    expect(await login(base, password)).toBe(204);
    await again.kill();
  }, 180_000);

  it('start whose agent refuses its options (after the hub listened) does not keep the admin either', async () => {
    const data = scratch();
    const port = await freePort();
    const failed = await cli(['start', '--port', String(port), '--data', data, '--interval', '100ms', '--inference-port', '0']);
    expect(failed.code, failed.stderr).not.toBe(0);
    expect(failed.stderr).toMatch(/interval 100 ms is too short/);
    expect(failed.stdout).not.toMatch(/login:/);

    const { proc, password } = await startedLogin(['start', '--port', String(port), '--data', data, '--interval', '500ms', '--inference-port', '0']);
    expect(await login(`http://127.0.0.1:${port}`, password)).toBe(204);
    await proc.kill();
  }, 120_000);

  it('hub on a busy port fails clearly; the next hub prints a login that works', async () => {
    const data = scratch();
    const port = await freePort();
    const args = ['hub', '--port', String(port), '--host', '127.0.0.1', '--data', data];
    const blocker = await occupy(port);
    const failed = await cli(args);
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    expect(failed.code, failed.stderr).not.toBe(0);
    expect(failed.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);

    const { proc, password } = await startedLogin(args);
    expect(await login(`http://127.0.0.1:${port}`, password)).toBe(204);
    await proc.kill();
  }, 120_000);
});
