// The CLI as users run it: the built dist/edgewatch.mjs and dist/edgewatch-agent.mjs.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/processes.js';

const run = promisify(execFile);
const CLI = join(REPO_ROOT, 'dist/edgewatch.mjs');
const AGENT = join(REPO_ROOT, 'dist/edgewatch-agent.mjs');
const FIXTURES = join(REPO_ROOT, 'test/fixtures/nvidia-smi');

async function cli(args: string[], opts: { input?: string; bin?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = run(process.execPath, [opts.bin ?? CLI, ...args], { cwd: REPO_ROOT, timeout: 20_000, maxBuffer: 16 * 1024 * 1024 });
  if (opts.input !== undefined) {
    child.child.stdin!.end(opts.input);
  }
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function captureFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? captureFiles(path) : [path];
  });
}

describe('edgewatch CLI', () => {
  it('has --help on the program and on every subcommand', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const sub of ['start', 'hub', 'agent', 'parse']) expect(top.stdout).toContain(sub);
    for (const sub of ['start', 'hub', 'agent', 'parse']) {
      const help = await cli([sub, '--help']);
      expect(help.code, sub).toBe(0);
      expect(help.stdout).toMatch(/^Usage: edgewatch /);
    }
    expect((await cli(['hub', '--help'])).stdout).toContain('EDGEWATCH_DATA');
    expect((await cli(['agent', '--help'])).stdout).toContain('EDGEWATCH_HUB');
  });

  it('says what is wrong with bad options', async () => {
    const noHub = await cli(['agent']);
    expect(noHub.code).not.toBe(0);
    expect(noHub.stderr).toMatch(/needs a hub: pass --hub/);
    const interval = await cli(['agent', '--hub', 'ws://127.0.0.1:9', '--interval', 'fast']);
    expect(interval.code).not.toBe(0);
    expect(interval.stderr).toMatch(/"fast" is not a duration/);
    const port = await cli(['hub', '--port', '70000']);
    expect(port.code).not.toBe(0);
    expect(port.stderr).toMatch(/"70000" is not a TCP port/);
    const level = await cli(['start', '--log-level', 'loud']);
    expect(level.code).not.toBe(0);
    expect(level.stderr).toMatch(/Allowed choices are fatal, error, warn, info, debug, trace, silent/);
  });

  it('parse nvidia-smi prints normalised metrics from a file and from stdin', async () => {
    const file = join(FIXTURES, 'h200/busy_query_csv.txt');
    const fromFile = await cli(['parse', 'nvidia-smi', file]);
    expect(fromFile.code).toBe(0);
    const parsed = JSON.parse(fromFile.stdout) as { format: string; samples: { m: Record<string, number> }[] };
    expect(parsed.samples[0]!.m['gpu.0.power']).toBe(77.9);
    expect(parsed.samples[0]!.m['gpu.0.mem.total']).toBe(143771 * 1048576);
    expect(parsed.samples[0]!.m['gpu.0.fan']).toBeUndefined(); // [N/A] stays missing

    const fromStdin = await cli(['parse', 'nvidia-smi', '-'], { input: readFileSync(file, 'utf8') });
    expect(JSON.parse(fromStdin.stdout)).toEqual(parsed);
  });

  it('parse rejects an unknown tool, a missing file and output that is not nvidia-smi', async () => {
    const tool = await cli(['parse', 'top', '-'], { input: '' });
    expect(tool.code).toBe(2);
    expect(tool.stderr).toMatch(/unknown tool "top"; known: nvidia-smi/);
    const missing = await cli(['parse', 'nvidia-smi', '/nonexistent/file']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read \/nonexistent\/file/);
    const garbage = await cli(['parse', 'nvidia-smi', '-'], { input: 'top - 10:00:00 up 3 days\nTasks: 120 total\n' });
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toMatch(/not nvidia-smi output/);
  });

  it('parse nvidia-smi reads every nvidia-smi capture in the fixtures', async () => {
    // Measurements and --help texts are not tool output; the parser tests assert the help
    // texts are refused with a clear error.
    const files = captureFiles(FIXTURES).filter((f) => !/(spawn_ms|lms_cost|help_query_\w+|QUERY_FIELDS)\.txt$/.test(f));
    expect(files.length).toBeGreaterThan(60);
    const results = [];
    for (let i = 0; i < files.length; i += 4) {
      results.push(...(await Promise.all(files.slice(i, i + 4).map(async (f) => ({ f, r: await cli(['parse', 'nvidia-smi', f]) })))));
    }
    for (const { f, r } of results) {
      expect(r.code, `${f}: ${r.stderr}`).toBe(0);
      const out = JSON.parse(r.stdout) as { format: string; samples: unknown[]; gpus?: unknown[]; processes?: unknown[]; version?: unknown };
      expect(out.format, f).toMatch(/^[a-z-]+$/);
      // Something was read: values, GPUs, version facts, or a process list (an idle GPU's
      // compute-apps list is a real, empty answer).
      const found = out.samples.length + (out.gpus?.length ?? 0) + (out.version ? 1 : 0);
      expect(found > 0 || Array.isArray(out.processes), f).toBe(true);
    }
  }, 120_000);

  it('parse tegrastats, vcgencmd and sensors read every capture of theirs, through the standalone agent file', async () => {
    const cases: { tool: string; dir: string; args?: string[] }[] = [
      { tool: 'tegrastats', dir: 'tegrastats' },
      { tool: 'sensors', dir: 'sensors' },
      // Bare frequency(N)=… and volt=… answers do not name their block: the caller does.
      { tool: 'vcgencmd', dir: 'raspberry-pi', args: ['--clock', 'v3d', '--volts', 'core'] },
    ];
    for (const { tool, dir, args = [] } of cases) {
      const files = captureFiles(join(REPO_ROOT, 'test/fixtures', dir)).filter((f) => f.endsWith('.txt') && !/proc-cpuinfo/.test(f));
      expect(files.length, dir).toBeGreaterThan(4);
      for (const f of files) {
        const r = await cli(['parse', tool, ...args, f], { bin: AGENT });
        expect(r.code, `${f}: ${r.stderr}`).toBe(0);
        const out = JSON.parse(r.stdout) as { tool: string; samples: { m: Record<string, number> }[]; warnings: string[] };
        expect(out.tool).toBe(tool);
        // get_mem has no catalog metric: it is understood and reported as a warning, not a value.
        if (f.endsWith('vcgencmd_get-mem-gpu_openelec.txt')) expect(out.warnings.join(' ')).toMatch(/gpu=256M|get_mem/);
        else expect(out.samples.some((s) => Object.keys(s.m).length > 0), f).toBe(true);
      }
    }
    const nano = await cli(['parse', 'tegrastats', join(REPO_ROOT, 'test/fixtures/tegrastats/nano-4gb_jp4.6.1_sudo-iram.txt')]);
    expect(JSON.parse(nano.stdout).samples[0].m).toMatchObject({ 'power.board': 1.75, 'gpu.0.clock.gr': 76, 'temp.pmic': 50 });
    const pi = await cli(['parse', 'vcgencmd', '-'], { input: 'throttled=0x50005\n' });
    expect(JSON.parse(pi.stdout).samples[0].m).toMatchObject({ 'pi.throttle.under_voltage': 1, 'pi.throttle.throttled': 1, 'pi.throttle.freq_capped': 0 });
    const notPi = await cli(['parse', 'vcgencmd', '-'], { input: 'hello world\n' });
    expect(notPi.code).not.toBe(0);
    expect(notPi.stderr).toMatch(/not vcgencmd output/);
  }, 120_000);

  it('the self-contained agent file runs on its own: --help and parse need no hub and no node_modules', async () => {
    const help = await cli(['--help'], { bin: AGENT });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: edgewatch-agent/);
    const parsed = await cli(['parse', 'nvidia-smi', join(FIXTURES, 'h200/busy_table.txt')], { bin: AGENT });
    expect(parsed.code).toBe(0);
    expect(JSON.parse(parsed.stdout).format).toBe('table');
    // Bundled means no import of a package at run time.
    const source = readFileSync(AGENT, 'utf8');
    expect(source).not.toMatch(/from\s*"(ws|zod|pino|commander|systeminformation)"/);
  });
});
