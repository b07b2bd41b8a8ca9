// SupervisedProcess against real child processes (node -e scripts): line delivery, restarts
// with growing delays, clean and forced stops, and a command that cannot start at all.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../../agent/tools/backoff.js';
import { SupervisedProcess, type ExitInfo } from '../../agent/tools/supervised-process.js';
import { silentLogger } from '../../shared/log.js';

const NODE = process.execPath;

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('backoffDelay', () => {
  const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };

  it('doubles from 1 s up to 60 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(n, noJitter))).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it('varies by the jitter share either way, never above the maximum', () => {
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0)).toBe(3200);
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0.999999)).toBe(4800);
    expect(backoffDelay(10, DEFAULT_BACKOFF, () => 0.999999)).toBe(60000);
  });
});

describe('SupervisedProcess', () => {
  it('delivers stdout line by line, including lines split across writes and CRLF; stderr is not delivered', async () => {
    const lines: string[] = [];
    const script = `process.stdout.write('a,1\\r\\nb,'); setTimeout(() => { process.stdout.write('2\\nc,3\\n'); process.stderr.write('warning\\n'); setInterval(() => {}, 1000); }, 50);`;
    const p = new SupervisedProcess({ command: NODE, args: ['-e', script], onLine: (l) => lines.push(l), log: silentLogger() });
    p.start();
    try {
      await waitFor(() => lines.length >= 3, 5000, 'three lines');
      expect(lines).toEqual(['a,1', 'b,2', 'c,3']);
    } finally {
      await p.close();
    }
  });

  it('drops the unterminated last line of a process that exits mid-line', async () => {
    const lines: string[] = [];
    const exits: ExitInfo[] = [];
    const p = new SupervisedProcess({
      command: NODE,
      args: ['-e', `process.stdout.write('whole\\nhal'); process.exit(0)`],
      onLine: (l) => lines.push(l),
      onExit: (info) => exits.push(info),
      log: silentLogger(),
      backoff: { initialMs: 5000 },
    });
    p.start();
    try {
      await waitFor(() => exits.length >= 1, 5000, 'the exit');
      await new Promise((r) => setTimeout(r, 50));
      expect(lines).toEqual(['whole']);
    } finally {
      await p.close();
    }
  });

  it('restarts a process that keeps dying, each delay longer than the last, and reports stderr', async () => {
    const starts: number[] = [];
    const exits: ExitInfo[] = [];
    const p = new SupervisedProcess({
      command: NODE,
      args: ['-e', `console.error('boom'); process.exit(3)`],
      onLine: () => undefined,
      onStart: () => starts.push(Date.now()),
      onExit: (info) => exits.push(info),
      log: silentLogger(),
      backoff: { initialMs: 100, factor: 2, maxMs: 10_000, jitter: 0 },
    });
    p.start();
    try {
      await waitFor(() => starts.length >= 4, 10_000, 'four starts');
    } finally {
      await p.close();
    }
    expect(exits.slice(0, 3).map((e) => e.restartInMs)).toEqual([100, 200, 400]);
    expect(exits[0]!.code).toBe(3);
    expect(exits[0]!.stderrTail).toEqual(['boom']);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(100);
    expect(gaps[1]).toBeGreaterThanOrEqual(200);
    expect(gaps[2]).toBeGreaterThanOrEqual(400);
    expect(p.restarts).toBeGreaterThanOrEqual(3);
  });

  it('starts again from the initial delay after a run that lasted healthyAfterMs', async () => {
    const exits: ExitInfo[] = [];
    // The first two runs die at once; every later run lives 700 ms, which counts as healthy
    // (the margin to 600 ms leaves room for a slow node start on a busy machine).
    const script = `const fs = require('fs'); const f = process.argv[1]; const n = fs.existsSync(f) ? Number(fs.readFileSync(f, 'utf8')) : 0; fs.writeFileSync(f, String(n + 1)); setTimeout(() => process.exit(1), n < 2 ? 0 : 700);`;
    const counter = join(tmpdir(), `edgewatch-sp-${process.pid}-${Date.now()}`);
    const p = new SupervisedProcess({
      command: NODE,
      args: ['-e', script, counter],
      onLine: () => undefined,
      onExit: (info) => exits.push(info),
      log: silentLogger(),
      backoff: { initialMs: 50, factor: 2, maxMs: 10_000, jitter: 0, healthyAfterMs: 600 },
    });
    p.start();
    try {
      await waitFor(() => exits.length >= 4, 10_000, 'four exits');
    } finally {
      await p.close();
      rmSync(counter, { force: true });
    }
    expect(exits.slice(0, 4).map((e) => e.restartInMs)).toEqual([50, 100, 50, 50]);
  });

  it('close() sends SIGTERM and waits for the exit', async () => {
    let pid: number | undefined;
    const exits: ExitInfo[] = [];
    const p = new SupervisedProcess({
      command: NODE,
      args: ['-e', 'setInterval(() => {}, 1000)'],
      onLine: () => undefined,
      onStart: (id) => (pid = id),
      onExit: (info) => exits.push(info),
      log: silentLogger(),
    });
    p.start();
    await waitFor(() => pid !== undefined, 5000, 'the start');
    await p.close();
    expect(isAlive(pid!)).toBe(false);
    expect(exits).toEqual([expect.objectContaining({ signal: 'SIGTERM', restartInMs: null })]);
    expect(p.running).toBe(false);
  });

  it('close() escalates to SIGKILL when SIGTERM is ignored', async () => {
    const lines: string[] = [];
    let pid: number | undefined;
    const exits: ExitInfo[] = [];
    const p = new SupervisedProcess({
      command: NODE,
      args: ['-e', `process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)`],
      onLine: (l) => lines.push(l),
      onStart: (id) => (pid = id),
      onExit: (info) => exits.push(info),
      log: silentLogger(),
      stopGraceMs: 200,
    });
    p.start();
    await waitFor(() => lines.includes('ready'), 5000, 'the SIGTERM handler');
    const started = Date.now();
    await p.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(isAlive(pid!)).toBe(false);
    expect(exits[0]!.signal).toBe('SIGKILL');
  });

  it('close() during the wait before a restart cancels the restart', async () => {
    const exits: ExitInfo[] = [];
    let starts = 0;
    const p = new SupervisedProcess({
      command: NODE,
      args: ['-e', 'process.exit(1)'],
      onLine: () => undefined,
      onStart: () => starts++,
      onExit: (info) => exits.push(info),
      log: silentLogger(),
      backoff: { initialMs: 150, jitter: 0 },
    });
    p.start();
    await waitFor(() => exits.length === 1, 5000, 'the first exit');
    await p.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(starts).toBe(1);
  });

  it('a command that does not exist is retried, not thrown', async () => {
    const exits: ExitInfo[] = [];
    const p = new SupervisedProcess({
      command: '/nonexistent/edgewatch-no-such-tool',
      args: [],
      onLine: () => undefined,
      onExit: (info) => exits.push(info),
      log: silentLogger(),
      backoff: { initialMs: 30, jitter: 0 },
    });
    expect(() => p.start()).not.toThrow();
    try {
      await waitFor(() => exits.length >= 2, 5000, 'two failed starts');
    } finally {
      await p.close();
    }
    expect(exits[0]!.error?.message).toMatch(/ENOENT/);
    expect(exits.map((e) => e.restartInMs).slice(0, 2)).toEqual([30, 60]);
  });

  it('an output handler that throws does not stop delivery', async () => {
    const lines: string[] = [];
    const p = new SupervisedProcess({
      command: NODE,
      args: ['-e', `console.log('one'); console.log('two'); setInterval(() => {}, 1000)`],
      onLine: (l) => {
        lines.push(l);
        if (l === 'one') throw new Error('handler bug');
      },
      log: silentLogger(),
    });
    p.start();
    try {
      await waitFor(() => lines.length >= 2, 5000, 'both lines');
      expect(lines).toEqual(['one', 'two']);
    } finally {
      await p.close();
    }
  });

  it('asks for the arguments again at every start', async () => {
    const lines: string[] = [];
    let run = 0;
    const p = new SupervisedProcess({
      command: NODE,
      args: () => ['-e', `console.log('run ${run++}'); process.exit(1)`],
      onLine: (l) => lines.push(l),
      log: silentLogger(),
      backoff: { initialMs: 20, jitter: 0 },
    });
    p.start();
    try {
      await waitFor(() => lines.length >= 2, 5000, 'two runs');
    } finally {
      await p.close();
    }
    expect(lines.slice(0, 2)).toEqual(['run 0', 'run 1']);
  });
});
