// What a person sees at a terminal: the real CLI (dist/edgewatch.mjs) run under a pseudo-
// terminal (util-linux `script`, so stderr and stdout are a TTY as in a shell), against what
// a pipe gets (journald, docker logs, these tests' other spawns): JSON lines.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, eventually, freePort, REPO_ROOT, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A line of the human format, colours removed: time, level, where, message. */
const HUMAN_LINE = /^\d\d:\d\d:\d\d (INFO |WARN |ERROR|FATAL|DEBUG|TRACE) [a-z/-]+ \S/;
/** A JavaScript stack frame, as a stack trace prints it. */
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;
// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

/** The environment of a new user's shell: no edgewatch settings, no NO_COLOR. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEWATCH_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'));
  return { ...env, TERM: 'xterm-256color', ...extra };
}

const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

interface PtyProcess {
  child: ChildProcess;
  /** Everything the terminal received, \r\n as \n, colours kept. */
  raw: () => string;
  /** The same without colours. */
  text: () => string;
  exited: Promise<number | null>;
  kill: () => Promise<number | null>;
}

/** `edgewatch <args>` with a pseudo-terminal as its stdin, stdout and stderr. */
function spawnInPty(args: string[], env: NodeJS.ProcessEnv = {}): PtyProcess {
  // exec: the signal `script` passes on reaches node itself, not a shell in between.
  const line = `exec ${sh(process.execPath)} ${[CLI, ...args].map(sh).join(' ')}`;
  const child = spawn('script', ['-qefc', line, '/dev/null'], { cwd: REPO_ROOT, env: userEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk: Buffer): void => {
    out += chunk.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const raw = (): string => out.replace(/\r\n/g, '\n');
  return {
    child,
    raw,
    text: () => stripAnsi(raw()),
    exited,
    kill: async () => {
      // SIGTERM to edgewatch itself, as Ctrl-C or systemd would: `script` given one stops
      // reading the terminal and kills its child, and what it logs while stopping is lost.
      if (child.exitCode === null && child.signalCode === null) {
        const inner = child.pid === undefined ? undefined : childPids(child.pid)[0];
        if (inner !== undefined) process.kill(inner, 'SIGTERM');
        else child.kill('SIGTERM');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The processes whose parent is `pid` (from /proc: `script` runs edgewatch as its child). */
function childPids(pid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The command name is in parentheses and may hold spaces: the fields after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) pids.push(Number(name));
    } catch {
      // It exited while we looked.
    }
  }
  return pids;
}

/** Resolves with the exit code, failing (and killing it) if it runs past `ms`. */
async function exitWithin(p: PtyProcess, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void p.kill();
      reject(new Error(`still running after ${ms} ms; it printed:\n${p.text().slice(-3000)}`));
    }, ms);
  });
  try {
    return await Promise.race([p.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

function occupyTcp(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function occupyUdp(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

const ptys: PtyProcess[] = [];
const procs: CliProcess[] = [];
const dirs: ReturnType<typeof tempDir>[] = [];
const held: Array<{ close: () => void }> = [];
function scratch(): string {
  const d = tempDir('edgewatch-cli-logs-');
  dirs.push(d);
  return d.dir;
}
function pty(args: string[], env?: NodeJS.ProcessEnv): PtyProcess {
  const p = spawnInPty(args, env);
  ptys.push(p);
  return p;
}

beforeAll(() => {
  const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`these tests need util-linux \`script\` for a pseudo-terminal (apt-get install util-linux): ${probe.error?.message ?? probe.stderr}`);
});
afterAll(async () => {
  await Promise.all([...ptys.map((p) => p.kill()), ...procs.map((p) => p.kill())]);
  held.forEach((h) => h.close());
  dirs.forEach((d) => d.remove());
});

describe('edgewatch start at a terminal', () => {
  it('prints short human lines, a one-line warning for a taken inference port, and ends with the URL and the login', async () => {
    const port = await freePort();
    const udp = await occupyUdp();
    held.push(udp);
    const inferencePort = udp.address().port;
    const data = scratch();
    const p = pty(['start', '--port', String(port), '--data', data, '--inference-port', String(inferencePort)]);
    await eventually('the login line', () => /\nlogin: user admin, password \S+\n\n/.test(p.text()), 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; it printed:\n${p.text().slice(-3000)}`);
    });
    // Whatever start-up logs after the block would push it out of sight.
    await new Promise((r) => setTimeout(r, 1500));
    const text = p.text();
    expect(text).not.toContain('{"level"');
    expect(text).not.toMatch(STACK_FRAME);
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const block = lines.slice(-2);
    expect(block[0]).toBe(`edgewatch is running: open http://127.0.0.1:${port} (data in ${data}). Ctrl-C stops it.`);
    expect(block[1]).toMatch(/^login: user admin, password [2-9a-z]{5}(-[2-9a-z]{5}){3}$/);
    const logLines = lines.slice(0, -2);
    expect(logLines.length).toBeGreaterThanOrEqual(4);
    for (const l of logLines) expect(l).toMatch(HUMAN_LINE);
    expect(logLines.some((l) => new RegExp(`^\\S+ INFO  hub hub listening url=http://127\\.0\\.0\\.1:${port} `).test(l))).toBe(true);
    const warning = logLines.filter((l) => / WARN  agent\/inference /.test(l));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toContain(`inference port ${inferencePort} on 127.0.0.1 is in use`);
    expect(warning[0]).toContain('err="bind EADDRINUSE');
    // Coloured: the level, and the block in bold.
    expect(p.raw()).toMatch(/\x1b\[32mINFO \x1b\[0m/);
    expect(p.raw()).toContain('\x1b[1mlogin: user admin, password');
    expect(await p.kill()).toBe(0);
  }, 60_000);

  it('has no colours with NO_COLOR', async () => {
    const port = await freePort();
    const p = pty(['start', '--port', String(port), '--data', scratch(), '--inference-port', '0'], { NO_COLOR: '1' });
    await eventually('the login line', () => /\nlogin: user admin, password \S+\n/.test(p.raw()), 30_000);
    expect(p.raw()).not.toContain('\x1b[');
    expect(p.raw()).toMatch(/^\d\d:\d\d:\d\d INFO  hub database open /m);
    await p.kill();
  }, 60_000);

  it('says a taken port in one line, with no stack, and exits 1', async () => {
    const port = await freePort();
    held.push(await occupyTcp(port));
    const p = pty(['start', '--port', String(port), '--data', scratch(), '--inference-port', '0']);
    expect(await exitWithin(p, 30_000)).toBe(1);
    const text = p.text();
    expect(text).not.toContain('{"level"');
    expect(text).not.toMatch(STACK_FRAME);
    const errors = text.split('\n').filter((l) => l.startsWith('edgewatch: '));
    expect(errors[0]).toBe(`edgewatch: port ${port} on 127.0.0.1 is already in use: stop the other process or pass --port`);
    for (const l of text.split('\n').filter((x) => x.trim() !== '' && !x.startsWith('edgewatch: '))) expect(l).toMatch(HUMAN_LINE);
  }, 60_000);

  it('shows the stack of that error at --log-level debug', async () => {
    const port = await freePort();
    held.push(await occupyTcp(port));
    const p = pty(['start', '--port', String(port), '--data', scratch(), '--inference-port', '0', '--log-level', 'debug']);
    expect(await exitWithin(p, 30_000)).toBe(1);
    expect(p.text()).toContain(`edgewatch: port ${port} on 127.0.0.1 is already in use`);
    expect(p.text()).toMatch(STACK_FRAME);
  }, 60_000);

  it('says a data directory it cannot write in one line and exits 1', async () => {
    const notADir = join(scratch(), 'a-file');
    writeFileSync(notADir, 'in the way');
    const p = pty(['start', '--port', String(await freePort()), '--data', notADir]);
    expect(await exitWithin(p, 30_000)).toBe(1);
    const lines = p.text().split('\n').filter((l) => l.trim() !== '');
    expect(lines).toEqual([`error: cannot write to the data directory ${notADir} (--data): a file (not a directory) is in the way; pass --data with a directory you can write, or set EDGEWATCH_DATA`]);
  }, 60_000);

  it('refuses a bad option value in one line', async () => {
    const p = pty(['start', '--log-format', 'fancy']);
    expect(await exitWithin(p, 30_000)).toBe(1);
    expect(p.text().trim()).toBe("error: option '--log-format <format>' argument 'fancy' is invalid. Allowed choices are auto, json, pretty.");
  }, 60_000);

  it('keeps JSON lines with --log-format json, and the URL as a log field', async () => {
    const port = await freePort();
    const p = pty(['start', '--port', String(port), '--data', scratch(), '--inference-port', '0', '--log-format', 'json']);
    await eventually('the login line', () => /\nlogin: user admin, password \S+\n/.test(p.text()), 30_000);
    const json = p
      .text()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; url?: string; user?: string });
    expect(json.map((r) => r.msg)).toEqual(expect.arrayContaining(['hub listening', 'agent started', 'edgewatch is running']));
    const running = json.find((r) => r.msg === 'edgewatch is running')!;
    expect(running).toMatchObject({ url: `http://127.0.0.1:${port}`, user: 'admin', passwordShown: true });
    // The password is on the terminal once, never in a log line.
    const password = /\nlogin: user admin, password (\S+)/.exec(p.text())![1]!;
    expect(json.some((r) => JSON.stringify(r).includes(password))).toBe(false);
    await p.kill();
  }, 60_000);
});

describe('edgewatch start without a terminal', () => {
  it('writes JSON lines, as before', async () => {
    const port = await freePort();
    const proc = spawnCli(['start', '--port', String(port), '--data', scratch(), '--inference-port', '0'], { EDGEWATCH_LOG_LEVEL: 'info' });
    procs.push(proc);
    await eventually('the login line', () => /\nlogin: user admin, password \S+\n/.test(proc.output()), 30_000);
    const lines = proc.output().split('\n').filter((l) => l.trim() !== '');
    const logLines = lines.filter((l) => !/^(edgewatch is running|login:)/.test(l));
    expect(logLines.length).toBeGreaterThanOrEqual(4);
    for (const l of logLines) expect(() => JSON.parse(l) as unknown, l).not.toThrow();
    expect(proc.output()).not.toMatch(/\x1b\[/);
    expect(proc.output()).toMatch(new RegExp(`\\nedgewatch is running: open http://127\\.0\\.0\\.1:${port} \\(data in .*\\)\\. Ctrl-C stops it\\.\\nlogin: user admin, password \\S+\\n`));
    await proc.kill();
    expect(await proc.exited).toBe(0);
  }, 60_000);
});

describe('edgewatch hub and agent at a terminal', () => {
  it('print human lines, --log-format pretty forces them without one', async () => {
    const port = await freePort();
    const hub = pty(['hub', '--no-auth', '--host', '127.0.0.1', '--port', String(port), '--data', scratch()]);
    await eventually('the hub listening line', () => / INFO  hub hub listening url=http:\/\/127\.0\.0\.1:\d+/.test(hub.text()), 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; it printed:\n${hub.text().slice(-3000)}`);
    });
    const agent = pty(['agent', '--hub', `ws://127.0.0.1:${port}/ws/agent`, '--state-dir', scratch(), '--inference-port', '0', '--name', 'lab\x1b[31mpi']);
    await eventually('the agent connected line', () => / INFO  agent\/transport connected to hub /.test(agent.text()), 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; it printed:\n${agent.text().slice(-3000)}`);
    });
    // The device name the agent sent reaches the hub's terminal escaped.
    await eventually('the hub agent connected line', () => /hub\/agent agent connected .*deviceName=lab\\x1b\[31mpi/.test(hub.text()), 15_000).catch((err: Error) => {
      throw new Error(`${err.message}; it printed:\n${hub.text().slice(-3000)}`);
    });
    expect(hub.text()).toContain(`\nedgewatch hub is running: open http://127.0.0.1:${port}; agents connect to ws://127.0.0.1:${port}/ws/agent. Ctrl-C stops it.\nwarning: authentication is off`);
    for (const p of [hub, agent]) {
      expect(p.text()).not.toContain('{"level"');
      const logLines = p.text().split('\n').filter((x) => x.trim() !== '' && !/^(warning: authentication is off|edgewatch hub is running)/.test(x));
      for (const l of logLines) expect(l).toMatch(HUMAN_LINE);
    }
    expect(await agent.kill()).toBe(0);
    expect(agent.text()).toMatch(/ INFO  agent stopping signal=SIGTERM/);

    // A pipe normally gets JSON; --log-format pretty asks for human lines anyway, uncoloured.
    const piped = spawnCli(['agent', '--hub', `ws://127.0.0.1:${port}/ws/agent`, '--state-dir', scratch(), '--inference-port', '0', '--log-format', 'pretty'], { EDGEWATCH_LOG_LEVEL: 'info' });
    procs.push(piped);
    await eventually('the piped agent connected line', () => / INFO  agent\/transport connected to hub /.test(piped.output()), 30_000);
    expect(piped.output()).not.toContain('{"level"');
    expect(piped.output()).not.toMatch(/\x1b\[/);
    await piped.kill();
    expect(await hub.kill()).toBe(0);
  }, 90_000);
});
