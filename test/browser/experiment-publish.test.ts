// What makes two runs publishable side by side, end to end: the real agent records the run
// conditions at each experiment's start (here a fixture /sys whose CPU governor is switched
// between the runs), the Python SDK and the TypeScript SDK each report quality scores (one with
// a hostile name), and the comparison says in plain words that the runs differ, shows the
// scores with their Δ, and keeps the hostile name inert in JSON, CSV, Markdown, HTML and on the
// page (Chromium, screenshot kept in test-artifacts/).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../dashboard/server/hub.js';
import type { ComparisonResponse, ExperimentSummary } from '../../shared/live.js';
import { CLI, eventually, freePort, getJson, REPO_ROOT } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, newWatchedPage, startUiHub } from './harness.js';

const run = promisify(execFile);
const HAVE_PYTHON = await run('python3', ['--version']).then(
  () => true,
  () => false,
);
const AGENT = join(REPO_ROOT, 'dist/edgewatch-agent.mjs');
const HOSTILE = '=HYPERLINK("http://x")<img src=x onerror=window.__xss=1>';

const PYTHON_RUN = `
import time
import edgewatch
for i in range(300):
    with edgewatch.timed("dense"):
        time.sleep(0.004)
edgewatch.score("top1", 0.912)
edgewatch.score(${JSON.stringify(HOSTILE)}, 3.5, better="lower")
`;

const TS_RUN = `
import { createClient } from ${JSON.stringify(join(REPO_ROOT, 'dist/sdk.mjs'))};
const ew = createClient();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (let i = 0; i < 300; i++) await ew.time('pruned', () => sleep(2));
ew.score('top1', 0.897);
ew.score(${JSON.stringify(HOSTILE)}, 2.5, { better: 'lower' });
await ew.close();
`;

describe.skipIf(!HAVE_BROWSER || !HAVE_PYTHON)('run conditions and quality scores, from the SDKs to the compare page', () => {
  let tmp: ReturnType<typeof tempDir>;
  let hub: Hub;
  let agent: ChildProcess;
  let agentLog = '';
  let base = '';
  let inferencePort = 0;
  let browser: Browser | undefined;
  const ids: string[] = [];
  const pageErrors: string[] = [];
  let governor = '';

  function setGovernor(name: string): void {
    writeFileSync(governor, `${name}\n`);
  }

  async function runExperiment(name: string, cmd: string[]): Promise<string> {
    const res = await run(process.execPath, [CLI, 'run', '--name', name, '--', ...cmd], {
      env: { ...process.env, EDGEWATCH_INFERENCE_PORT: String(inferencePort), PYTHONPATH: join(REPO_ROOT, 'sdk/python'), PYTHONDONTWRITEBYTECODE: '1' },
      timeout: 60_000,
    });
    const id = /experiment (x-[a-z0-9-]+) \(/.exec(res.stderr)?.[1];
    if (!id) throw new Error(`edgewatch run printed no experiment id:\n${res.stderr}`);
    return id;
  }

  beforeAll(async () => {
    tmp = tempDir('edgewatch-publish-');
    // A /sys with one cpufreq policy and nothing else: CPU, memory and the rest come from /proc.
    const policy = join(tmp.dir, 'sys/devices/system/cpu/cpufreq/policy0');
    mkdirSync(policy, { recursive: true });
    const files: [string, string][] = [['scaling_min_freq', '800000'], ['scaling_max_freq', '3400000'], ['cpuinfo_max_freq', '3400000'], ['affected_cpus', '0']];
    for (const [file, value] of files) {
      writeFileSync(join(policy, file), `${value}\n`);
    }
    governor = join(policy, 'scaling_governor');
    setGovernor('performance');

    hub = await startUiHub(tmp.dir);
    base = `http://127.0.0.1:${hub.port}/`;
    inferencePort = await freePort();
    agent = spawn(
      process.execPath,
      [AGENT, '--hub', `ws://127.0.0.1:${hub.port}/ws/agent`, '--id', 'bench-box', '--interval', '500ms', '--inference-port', String(inferencePort),
        '--state-dir', join(tmp.dir, 'agent'), '--sys-root', join(tmp.dir, 'sys'), '--process-interval', '0'],
      { env: { ...process.env, EDGEWATCH_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    agent.stdout!.on('data', (d: Buffer) => (agentLog += d.toString()));
    agent.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));
    await eventually('the agent listening for timings', async () => (await fetch(`http://127.0.0.1:${inferencePort}/v1/health`)).ok, 20_000, 200).catch((err: Error) => {
      throw new Error(`${err.message}\n${agentLog.slice(-2000)}`);
    });

    const py = join(tmp.dir, 'dense.py');
    writeFileSync(py, PYTHON_RUN);
    ids.push(await runExperiment('dense', ['python3', py]));
    setGovernor('powersave');
    const ts = join(tmp.dir, 'pruned.mjs');
    writeFileSync(ts, TS_RUN);
    ids.push(await runExperiment('pruned', [process.execPath, ts]));
    await eventually(
      'both experiments ended with every timing and their conditions',
      async () => {
        const { experiments } = await getJson<{ experiments: ExperimentSummary[] }>(`${base}api/v1/experiments`);
        return experiments.length === 2 && experiments.every((e) => e.end !== null && e.inferences === 300);
      },
      15_000,
      250,
    );
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    agent?.kill('SIGTERM');
    await browser?.close().catch(() => {});
    await hub?.close();
    tmp?.remove();
  }, 30_000);

  it('records each run\'s conditions and says in plain words that the governor differed', async () => {
    const cmp = await getJson<ComparisonResponse>(`${base}api/v1/experiments/compare?ids=${ids.join(',')}`);
    const [dense, pruned] = cmp.experiments;
    expect(dense!.conditions).toMatchObject({ cpuGovernor: 'performance', cpuMinMHz: 800, cpuMaxMHz: 3400, kernel: expect.stringMatching(/\S/) });
    expect(pruned!.conditions).toMatchObject({ cpuGovernor: 'powersave' });
    expect(dense!.conditions!.agentVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(cmp.conditionWarnings.join('\n')).toMatch(/governor/i);
    expect(cmp.conditionWarnings.join('\n')).toMatch(/powersave/);
    expect(cmp.conditionWarnings.join('\n')).toMatch(/performance/);
  });

  it('shows both SDKs\' scores with their Δ against the baseline, the hostile name intact in JSON', async () => {
    const cmp = await getJson<ComparisonResponse>(`${base}api/v1/experiments/compare?ids=${ids.join(',')}`);
    const [dense, pruned] = cmp.experiments;
    expect(dense!.scores).toEqual(
      expect.arrayContaining([
        { name: 'top1', value: 0.912, better: 'higher' },
        { name: HOSTILE, value: 3.5, better: 'lower' },
      ]),
    );
    const top1 = pruned!.scoreDeltas.find((d) => d.name === 'top1')!;
    expect(top1.delta).toBeCloseTo(0.897 - 0.912, 12);
    expect(top1.worse).toBe(true);
    const hostile = pruned!.scoreDeltas.find((d) => d.name === HOSTILE)!;
    expect(hostile).toMatchObject({ delta: -1, worse: false });
  });

  it('keeps the hostile score name inert in the CSV, Markdown and HTML exports', async () => {
    const get = async (format: string) => (await fetch(`${base}api/v1/experiments/compare?ids=${ids.join(',')}&format=${format}`)).text();
    const csv = await get('csv');
    // No cell starts with = (the name only appears after "score:"), and the name is there.
    expect(csv.split(/\r?\n/).some((line) => /(^|,)"?[=+@-]/.test(line.replace(/,-?\d/g, ',0')))).toBe(false);
    expect(csv).toContain('score:=HYPERLINK(""http://x"")');
    const md = await get('md');
    expect(md).not.toContain('<img');
    expect(md).toMatch(/top1/);
    const html = await get('html');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=window.__xss=1&gt;');
  });

  it('puts the conditions warning and the scores on the compare page, the hostile name as text', async () => {
    const { page, context } = await newWatchedPage(browser!, { width: 1280, height: 900 }, { errors: pageErrors });
    await page.goto(`${base}#/compare?ids=${ids.join(',')}`);
    await page.getByText(/governor/i).first().waitFor();
    await page.getByText(HOSTILE).first().waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'compare-conditions-scores.png'), fullPage: true });
    await context.close();
    expect(pageErrors).toEqual([]);
  });
});
