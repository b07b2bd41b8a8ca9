// A wrong --hub is not silent. The real agent, at its default log level, says once at warn
// what failed and what to check (nothing listening at that port; no hub at that path), keeps
// retrying quietly, and says at info when it connects after such a warning.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, freePort, REPO_ROOT, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const AGENT = join(REPO_ROOT, 'dist/edgewatch-agent.mjs');
const WARN = 40;
const INFO = 30;

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** The agent's JSON log lines about its hub connection (part "transport"). */
const lines = (p: CliProcess): LogLine[] =>
  p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        const line = JSON.parse(l) as LogLine;
        return line.part === 'transport' ? [line] : [];
      } catch {
        return [];
      }
    });

/** dist/edgewatch-agent.mjs as a board runs it: no EDGEWATCH_* variables, so the default log level. */
function spawnAgentFile(args: string[]): CliProcess {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEWATCH_')));
  const child = spawn(process.execPath, [AGENT, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => log,
    exited,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const procs: CliProcess[] = [];
const dirs: ReturnType<typeof tempDir>[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  dirs.forEach((d) => d.remove());
});
function scratch(): string {
  const d = tempDir('edgewatch-hub-warn-');
  dirs.push(d);
  return d.dir;
}

describe('the agent says what is wrong with --hub', () => {
  it('nothing listening: one warning within seconds, quiet retries, then "connected" at info once the hub is up', async () => {
    const dir = scratch();
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}/ws/agent`;
    const agent = spawnAgentFile(['--hub', url, '--id', 'warn-closed', '--state-dir', join(dir, 'agent'), '--interval', '500ms', '--inference-port', '0']);
    procs.push(agent);
    const startedAt = Date.now();
    const warnings = () => lines(agent).filter((l) => l.level === WARN);
    await eventually('the warning', () => warnings().length > 0, 5000, 50).catch((err: Error) => {
      throw new Error(`${err.message}; the agent printed:\n${agent.output().slice(-3000)}`);
    });
    expect(Date.now() - startedAt).toBeLessThan(5000);
    const [warning] = warnings();
    expect(warning!.msg).toContain(`nothing listens at ${url}: is the hub running, and is this its --port?`);
    expect(warning!.url).toBe(url);
    expect(warning!.code).toBe('ECONNREFUSED');

    // Attempts go on (0.5 s, 1 s, 2 s … apart): none of them says it again at this level.
    await new Promise((r) => setTimeout(r, 4000));
    expect(warnings(), agent.output()).toHaveLength(1);

    const hub = spawnCli(['hub', '--no-auth', '--host', '127.0.0.1', '--port', String(port), '--data', join(dir, 'hub')], { EDGEWATCH_LOG_LEVEL: 'warn' });
    procs.push(hub);
    const connected = await eventually('the agent to say it connected', () => lines(agent).find((l) => l.level === INFO && /^connected to hub/.test(l.msg)), 45_000, 100).catch(
      (err: Error) => {
        throw new Error(`${err.message}; the agent printed:\n${agent.output().slice(-3000)}\nthe hub:\n${hub.output().slice(-2000)}`);
      },
    );
    expect(connected.msg).toMatch(/^connected to hub after \d+ failed attempts over \d+ s$/);
    // Several attempts failed, and were said only once.
    expect(connected.failedAttempts as number).toBeGreaterThanOrEqual(3);
    expect(warnings()).toHaveLength(1);
    await agent.kill();
    await hub.kill();
  }, 90_000);

  it('a real hub at a wrong path (/ws/agnt): one warning naming the agent path, retries at debug only', async () => {
    const dir = scratch();
    const port = await freePort();
    const hub = spawnCli(['hub', '--host', '127.0.0.1', '--port', String(port), '--data', join(dir, 'hub')], { EDGEWATCH_LOG_LEVEL: 'warn' });
    procs.push(hub);
    await eventually('the hub to listen', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 45_000);

    const url = `ws://127.0.0.1:${port}/ws/agnt`;
    // At debug, to see the retries that info leaves out; the warning is at warn, which info shows.
    const agent = spawnCli(['agent', '--hub', url, '--id', 'warn-path', '--state-dir', join(dir, 'agent'), '--interval', '500ms', '--inference-port', '0'], { EDGEWATCH_LOG_LEVEL: 'debug' });
    procs.push(agent);
    const retries = () => lines(agent).filter((l) => l.msg === 'hub not reachable: retrying').length;
    await eventually('three failed attempts', () => retries() >= 3, 30_000, 100);
    const warnings = lines(agent).filter((l) => l.level >= WARN);
    expect(warnings, agent.output().slice(-3000)).toHaveLength(1);
    expect(warnings[0]!.level).toBe(WARN);
    expect(warnings[0]!.status).toBe(404);
    expect(warnings[0]!.msg).toContain(`no edgewatch hub at this path: ${url} answered 404 Not Found; use ws://host:port/ws/agent, e.g. ws://127.0.0.1:${port}/ws/agent`);
    // The retries after it say why at debug.
    expect(lines(agent).filter((l) => l.level === 20 && /hub still not reachable: no edgewatch hub at this path/.test(l.msg)).length).toBeGreaterThanOrEqual(2);
    await agent.kill();
    await hub.kill();
  }, 90_000);
});
