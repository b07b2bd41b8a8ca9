// `edgewatch top` for real, in a real terminal: tmux runs the built CLI in a detached session of
// a fixed size, keys go in with send-keys and the screen comes back with capture-pane. Sources:
// this machine sampled directly; fixture /sys trees with fake tegrastats/nvidia-smi replaying
// captures; and a real `edgewatch agent` that top attaches to while the SDK records timings.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../sdk/index.js';
import { CLI, eventually, freePort, getJson, REPO_ROOT, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const exec = promisify(execFile);
const FAKE_BIN = join(REPO_ROOT, 'test/fixtures/bin');
const NANO = join(REPO_ROOT, 'test/fixtures/sysroot/jetson-nano');
const HAVE_TMUX = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!HAVE_TMUX && process.env.EDGEWATCH_REQUIRE_TMUX === '1') throw new Error('tmux is needed for the edgewatch top tests (apt-get install tmux)');

/** A tmux server of its own, so the tests never touch a user's sessions. */
const SOCKET = `edgewatch-top-test-${process.pid}`;
const tmux = (...args: string[]): Promise<{ stdout: string }> => exec('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

interface Pane {
  readonly name: string;
  /** The visible screen; with `history`, the lines scrolled off above it too. */
  screen(escapes?: boolean, history?: boolean): Promise<string[]>;
  keys(...keys: string[]): Promise<void>;
  /** Polls the screen until `check` holds; fails with the last screen. */
  until(what: string, check: (text: string, lines: string[]) => boolean, timeoutMs?: number): Promise<string[]>;
  info(format: string): Promise<string>;
}

let sessions = 0;
/**
 * Runs `top <args>` in a w×h pane. After top exits the shell prints TOP-EXITED <code> and waits,
 * so the test can look at the terminal top left behind.
 */
async function openTop(args: string[], size: { w: number; h: number }, env: Record<string, string> = {}): Promise<Pane> {
  const name = `top${++sessions}`;
  const vars = Object.entries({ EDGEWATCH_LOG_LEVEL: 'warn', ...env }).map(([k, v]) => `${k}=${shellQuote(v)}`);
  const command = `env ${vars.join(' ')} ${shellQuote(process.execPath)} ${shellQuote(CLI)} top ${args.map(shellQuote).join(' ')}; echo TOP-EXITED $?; sleep 120`;
  await tmux('new-session', '-d', '-s', name, '-x', String(size.w), '-y', String(size.h), '-c', REPO_ROOT, command);
  const pane: Pane = {
    name,
    async screen(escapes = false, history = false) {
      const { stdout } = await tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), ...(history ? ['-S', '-'] : []), '-t', name);
      return stdout.replace(/\n$/, '').split('\n');
    },
    async keys(...keys) {
      await tmux('send-keys', '-t', name, ...keys);
    },
    async until(what, check, timeoutMs = 20_000) {
      let last: string[] = [];
      try {
        return await eventually(
          what,
          async () => {
            last = await pane.screen();
            return check(last.join('\n'), last) ? last : undefined;
          },
          timeoutMs,
          150,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}\nscreen:\n${last.join('\n')}`);
      }
    },
    async info(format) {
      return (await tmux('display-message', '-p', '-t', name, format)).stdout.trim();
    },
  };
  return pane;
}

/** The process table's rows: a right-aligned pid, then fixed columns USER, CPU%, MEM. */
function tableRows(lines: string[]): { pid: number; cpu: number; mem: number }[] {
  const head = lines.findIndex((l) => /^\s+PID USER/.test(l));
  if (head < 0) return [];
  const out: { pid: number; cpu: number; mem: number }[] = [];
  for (const l of lines.slice(head + 1)) {
    if (!/^\s*\d+ /.test(l)) break;
    out.push({ pid: Number(l.slice(0, 7)), cpu: Number(l.slice(18, 24)), mem: bytes(l.slice(25, 34).trim()) });
  }
  return out;
}

function bytes(text: string): number {
  const m = /^([\d.]+) (B|KiB|MiB|GiB|TiB)$/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * 1024 ** ['B', 'KiB', 'MiB', 'GiB', 'TiB'].indexOf(m[2]!);
}

const noAgent = async (): Promise<string[]> => ['--agent', `http://127.0.0.1:${await freePort()}`];

describe.skipIf(!HAVE_TMUX)('edgewatch top in a real terminal (tmux)', () => {
  let tmp: ReturnType<typeof tempDir>;

  beforeAll(() => {
    tmp = tempDir('edgewatch-top-');
  });

  afterAll(async () => {
    await tmux('kill-server').catch(() => {});
    tmp?.remove();
  });

  it("at 80×24 shows this machine's cores and processes, sorts with s and m, shows help with h, and q restores the terminal", async () => {
    const pane = await openTop(await noAgent(), { w: 80, h: 24 });
    const cores = cpus().length;
    const lines = await pane.until('cores and a process table', (text, l) => /cpu0 +\[/.test(text) && tableRows(l).length >= 3);
    expect(lines[0]).toMatch(/sampling directly \(no agent at 127\.0\.0\.1:\d+\)/);
    expect(lines).toHaveLength(24);
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    // Every core while they fit (3 columns, a few rows); on a big machine at least the first column.
    const shown = new Set([...lines.join('\n').matchAll(/cpu(\d+) +\[/g)].map((m) => Number(m[1])));
    if (cores <= 12) expect(shown.size).toBe(cores);
    else expect(shown.size).toBeGreaterThanOrEqual(3);
    expect(lines.at(-1)).toContain('sort: CPU');

    await pane.keys('m');
    const byMem = await pane.until('the table sorted by memory', (text, l) => text.includes('sort: memory') && tableRows(l).length >= 3);
    const mem = tableRows(byMem).map((r) => r.mem);
    expect(mem.every((v) => Number.isFinite(v))).toBe(true);
    for (let i = 1; i < mem.length; i++) expect(mem[i]!).toBeLessThanOrEqual(mem[i - 1]!);

    await pane.keys('s');
    const byCpu = await pane.until('the table sorted by CPU', (text, l) => text.includes('sort: CPU') && tableRows(l).length >= 3);
    const cpu = tableRows(byCpu).map((r) => r.cpu);
    for (let i = 1; i < cpu.length; i++) expect(cpu[i]!).toBeLessThanOrEqual(cpu[i - 1]!);

    await pane.keys('h');
    await pane.until('the help', (text) => text.includes('edgewatch top: keys'));
    await pane.keys('h');
    await pane.until('the help closed', (text, l) => !text.includes('edgewatch top: keys') && tableRows(l).length >= 1);

    expect(await pane.info('#{alternate_on} #{cursor_flag}')).toBe('1 0');
    await pane.keys('q');
    await pane.until('top gone', (text) => text.includes('TOP-EXITED 0'));
    // Off the alternate screen, cursor visible again, and no frame left on the normal screen.
    expect(await pane.info('#{alternate_on} #{cursor_flag}')).toBe('0 1');
    expect((await pane.screen()).join('\n')).not.toContain('PID USER');
  });

  it('Ctrl-C quits too and restores the terminal', async () => {
    const pane = await openTop(await noAgent(), { w: 80, h: 24 });
    await pane.until('a frame', (text) => /cpu0 +\[/.test(text));
    await pane.keys('C-c');
    await pane.until('top gone', (text) => text.includes('TOP-EXITED 0'));
    expect(await pane.info('#{alternate_on} #{cursor_flag}')).toBe('0 1');
  });

  it('at 160×50 uses the width and the height: wide lines, the GPU-memory and I/O columns, more process rows', async () => {
    const pane = await openTop(await noAgent(), { w: 160, h: 50 });
    const lines = await pane.until('a wide table', (_t, l) => tableRows(l).length >= 20);
    expect(lines).toHaveLength(50);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(160);
    expect(Math.max(...lines.map((l) => l.trimEnd().length))).toBeGreaterThan(100);
    expect(lines.find((l) => /PID USER/.test(l))).toMatch(/GPU MEM\s+READ\s+WRITE\s+COMMAND/);
    // At 80×24 the table has at most 24 − 6 rows; here it has room for many more.
    expect(tableRows(lines).length).toBeGreaterThan(18);
    await pane.keys('q');
    await pane.until('top gone', (text) => text.includes('TOP-EXITED 0'));
  });

  it('reacts to a resize (SIGWINCH): the next frame fits the new size', async () => {
    const pane = await openTop(await noAgent(), { w: 120, h: 40 });
    await pane.until('a frame', (_t, l) => tableRows(l).length >= 3);
    await tmux('resize-window', '-t', pane.name, '-x', '80', '-y', '24');
    const lines = await pane.until('a frame at 80 columns', (_t, l) => l.length === 24 && !l.some((x) => /READ\s+WRITE/.test(x)) && tableRows(l).length >= 3);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    await pane.keys('q');
  });

  it('a Jetson Nano from fixture roots and a replayed tegrastats: GPU, EMC, engines, rails and power mode', async () => {
    const bin = join(tmp.dir, 'jetson-bin');
    mkdirSync(bin);
    for (const tool of ['tegrastats', 'nvpmodel']) symlinkSync(join(FAKE_BIN, tool), join(bin, tool));
    const pane = await openTop([...(await noAgent()), '--sys-root', join(NANO, 'sys'), '--host-root', NANO], { w: 80, h: 24 }, {
      PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
      FAKE_TEGRASTATS_FIXTURE: 'nano_l4t32_jetson-stats-commented.txt',
    });
    // nano_l4t32_jetson-stats-commented.txt: EMC_FREQ 10%@1600 GR3D_FREQ 0%@76 NVENC 716 NVDEC 716
    // APE 25 … POM_5V_IN 4520/4680 POM_5V_GPU 0/0 POM_5V_CPU 1078/1205
    const lines = await pane.until('the Jetson rails', (text) => text.includes('POM_5V_IN'));
    const text = lines.join('\n');
    expect(text).toMatch(/GPU +\[ *\] +0% @ 76 MHz/);
    expect(text).toContain('EMC 10% @ 1.60 GHz');
    expect(text).toMatch(/Rails +board 4\.5 W +POM_5V_CPU 1\.1 W \(avg 1\.2 W\)/);
    expect(text).toContain('POM_5V_IN 4.5 W (avg 4.7 W)');
    expect(text).toMatch(/Engines +APE 25 MHz +NVDEC 716 MHz +NVENC 716 MHz/);
    expect(text).toContain('mode MAXN');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    await pane.keys('q');
    await pane.until('top gone', (t) => t.includes('TOP-EXITED 0'));
  });

  it('two NVIDIA GPUs from a replayed nvidia-smi: util, memory, power, temperature and clocks of each', async () => {
    // The capture is of one H200; this wrapper repeats each GPU row as GPU 1 at 42 % so the
    // two are told apart on screen.
    const bin = join(tmp.dir, 'gpu-bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'nvidia-smi'),
      `#!/usr/bin/env node
const { spawn } = require('node:child_process');
const args = process.argv.slice(2);
const q = args.find((a) => a.startsWith('--query-gpu='));
const fields = q ? q.slice('--query-gpu='.length).split(',') : [];
const index = fields.indexOf('index');
const uuid = fields.indexOf('uuid');
const util = fields.indexOf('utilization.gpu');
const child = spawn(process.execPath, [${JSON.stringify(join(FAKE_BIN, 'fake-nvidia-smi.cjs'))}, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
process.stdout.on('error', () => process.exit(0));
let rest = '';
child.stdout.on('data', (d) => {
  const lines = (rest + d.toString()).split('\\n');
  rest = lines.pop();
  const out = [];
  for (const line of lines) {
    out.push(line);
    if (/^GPU 0: /.test(line)) out.push(line.replace('GPU 0:', 'GPU 1:').replace(/GPU-[0-9a-f]{8}/, 'GPU-11111111'));
    const cells = line.split(', ');
    if (index >= 0 && cells[index] === '0') {
      cells[index] = '1';
      if (uuid >= 0) cells[uuid] = cells[uuid].replace(/GPU-[0-9a-f]{8}/, 'GPU-11111111');
      if (util >= 0) cells[util] = '42';
      out.push(cells.join(', '));
    }
  }
  process.stdout.write(out.map((l) => l + '\\n').join(''));
});
child.on('exit', (code) => process.exit(code ?? 0));
process.on('SIGTERM', () => { child.kill('SIGTERM'); process.exit(0); });
`,
    );
    chmodSync(join(bin, 'nvidia-smi'), 0o755);
    const pane = await openTop(await noAgent(), { w: 80, h: 24 }, { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin` });
    const lines = await pane.until('two GPUs', (text) => /GPU0 H200/.test(text) && /GPU1 H200/.test(text));
    const text = lines.join('\n');
    // busy_stream_lms500.txt: 99 % util, 883 MiB of 143771 MiB, 55 °C (HBM 43 °C), P0.
    expect(text).toMatch(/GPU0 H200 +\[\|+\] +99% +mem 883 MiB \/ 140 GiB/);
    expect(text).toMatch(/GPU1 H200 +\[\|+ *\] +42% +mem 883 MiB \/ 140 GiB/);
    expect(text).toMatch(/\d+ W \/ 700 W +55\.0 °C \(mem 43\.0 °C\) +sm [\d.]+ GHz +mem [\d.]+ GHz +P0/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    await pane.keys('q');
    await pane.until('top gone', (t) => t.includes('TOP-EXITED 0'));
  });

  describe('attached to a real agent', () => {
    let agent: CliProcess | undefined;
    let port = 0;

    beforeAll(async () => {
      port = await freePort();
      // No hub runs: the agent samples and spools as it would while its hub is down.
      agent = spawnCli(['agent', '--hub', `ws://127.0.0.1:${await freePort()}`, '--interval', '500ms', '--process-interval', '1s', '--inference-port', String(port), '--state-dir', join(tmp.dir, 'agent')], { EDGEWATCH_LOG_LEVEL: 'info' });
      await eventually('the agent serving /v1/top with a sample', async () => (await getJson<{ sample: unknown; processes: unknown }>(`http://127.0.0.1:${port}/v1/top`)).processes, 20_000).catch((err: Error) => {
        throw new Error(`${err.message}\nagent log:\n${agent!.output().slice(-3000)}`);
      });
    }, 30_000);

    afterAll(async () => {
      await agent?.kill();
    });

    it("says it is attached and shows the agent's inference models and running experiment as the SDK records timings", async () => {
      const ew = createClient({ port, experiment: null });
      const id = await ew.startExperiment({ name: 'top-attached' });
      expect(id).toBeTruthy();
      let stop = false;
      // Bounded: at most 30 s of timings, ~50 a second.
      const feeding = (async () => {
        const end = Date.now() + 30_000;
        while (!stop && Date.now() < end) {
          ew.record('resnet18-int8', 12 + Math.random());
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      try {
        const pane = await openTop(['--inference-port', String(port)], { w: 80, h: 24 });
        const lines = await pane.until('the model row', (text) => /resnet18-int8 +[\d.]+ +1[23]\.\d ms +1[23]\.\d ms/.test(text));
        expect(lines[0]).toContain(`attached to agent 127.0.0.1:${port}`);
        expect(lines.join('\n')).toContain(`Experiment top-attached (${id}) running`);
        expect(tableRows(lines).length).toBeGreaterThanOrEqual(3);
        // The agent's own process is in its table: top is showing what the agent sampled.
        expect(tableRows(lines).length).toBeGreaterThan(0);
        await pane.keys('q');
        await pane.until('top gone', (t) => t.includes('TOP-EXITED 0'));
      } finally {
        stop = true;
        await feeding;
        if (id) await ew.endExperiment(id);
        await ew.close();
      }
    });

    it('--once attached: one plain frame with the agent as its source', async () => {
      const { stdout } = await exec(process.execPath, [CLI, 'top', '--once', '--inference-port', String(port)], { encoding: 'utf8', env: { ...process.env, EDGEWATCH_LOG_LEVEL: 'warn' } });
      expect(stdout).not.toContain('\x1b');
      expect(stdout.split('\n')[0]).toContain(`attached to agent 127.0.0.1:${port}`);
      expect(stdout).toMatch(/cpu0 +\[/);
    });

    it('keeps the last data on screen, marked, when the agent stops answering (runs last: it stops the agent)', async () => {
      const pane = await openTop(['--inference-port', String(port)], { w: 80, h: 24 });
      await pane.until('attached', (text, l) => text.includes(`attached to agent 127.0.0.1:${port}`) && tableRows(l).length >= 3);
      await agent!.kill();
      const lines = await pane.until('the agent marked gone', (text) => text.includes(`no agent at 127.0.0.1:${port} since`));
      expect(lines[1]).toMatch(/showing its last data, retrying/);
      expect(tableRows(lines).length).toBeGreaterThanOrEqual(3);
      for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
      await pane.keys('q');
      await pane.until('top gone', (t) => t.includes('TOP-EXITED 0'));
    });
  });

  it('--once prints one plain frame without escape codes and exits; so does a pipe, saying why', async () => {
    const args = await noAgent();
    const once = await exec(process.execPath, [CLI, 'top', '--once', ...args], { encoding: 'utf8', env: { ...process.env, EDGEWATCH_LOG_LEVEL: 'warn' } });
    expect(once.stdout).not.toContain('\x1b');
    expect(once.stdout).toMatch(/sampling directly \(no agent at 127\.0\.0\.1:\d+\)/);
    expect(once.stdout).toMatch(/cpu0 +\[/);
    expect(once.stdout).toMatch(/^\s+PID USER +CPU% +MEM/m);
    expect(tableRows(once.stdout.split('\n')).length).toBeGreaterThanOrEqual(3);
    for (const l of once.stdout.split('\n')) expect(l.length).toBeLessThanOrEqual(100);

    // The standalone agent file boards get carries top too.
    const standalone = await exec(process.execPath, [join(REPO_ROOT, 'dist/edgewatch-agent.mjs'), 'top', '--once', ...args], { encoding: 'utf8', env: { ...process.env, EDGEWATCH_LOG_LEVEL: 'warn' } });
    expect(standalone.stdout).not.toContain('\x1b');
    expect(standalone.stdout).toMatch(/cpu0 +\[/);

    const piped = await exec(process.execPath, [CLI, 'top', ...args], { encoding: 'utf8', env: { ...process.env, EDGEWATCH_LOG_LEVEL: 'warn' } });
    expect(piped.stderr).toContain('stdout is not a terminal, printing one plain frame');
    expect(piped.stdout).not.toContain('\x1b');
    expect(piped.stdout).toMatch(/cpu0 +\[/);
  });

  it('NO_COLOR: no colour in the live view; --once on a terminal is plain text too', async () => {
    const colour = await openTop(await noAgent(), { w: 80, h: 24 });
    await colour.until('a frame', (text) => /cpu0 +\[/.test(text));
    expect((await colour.screen(true)).join('\n')).toMatch(/\x1b\[[0-9;]*3[1-6]m/);
    await colour.keys('q');

    const plain = await openTop(await noAgent(), { w: 80, h: 24 }, { NO_COLOR: '1' });
    await plain.until('a frame', (text, l) => /cpu0 +\[/.test(text) && tableRows(l).length >= 3);
    expect((await plain.screen(true)).join('\n')).not.toMatch(/\x1b\[[0-9;]*3[0-7]m/);
    await plain.keys('q');

    const once = await openTop(['--once', ...(await noAgent())], { w: 80, h: 24 });
    await once.until('the frame and the exit', (text) => text.includes('TOP-EXITED 0'));
    // The whole frame is longer than 24 lines: it scrolled, as plain output does.
    const lines = await once.screen(false, true);
    expect((await once.screen(true, true)).join('\n')).not.toContain('\x1b');
    expect(lines.join('\n')).toMatch(/cpu0 +\[/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
  });
});
