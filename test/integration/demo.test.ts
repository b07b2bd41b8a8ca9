// `edgewatch demo` as a new user runs it, from the built CLI, with HOME, XDG dirs and TMPDIR
// pointed at a scratch directory: it keeps its data in a fresh temporary directory (never a
// real data directory, never the working directory's ./data), its replayed devices reach the
// hub over the agent protocol and are labelled demo in the API and on /metrics, next to this
// machine's real agent (not labelled), and the temporary directory is gone after Ctrl-C.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceSummary } from '../../shared/live.js';
import { apiLogin, printedLogin } from '../browser/auth-helpers.js';
import { eventually, freePort, REPO_ROOT, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const DEMO_IDS = ['demo-agx-orin', 'demo-h200', 'demo-orin-nano', 'demo-pi4'];
/** This machine is shared and loaded while tests run: start-up includes 10 minutes of samples per device. */
const START_TIMEOUT_MS = 90_000;

describe('edgewatch demo', () => {
  const scratch = tempDir('edgewatch-demo-home-');
  const home = join(scratch.dir, 'home');
  const tmp = join(scratch.dir, 'tmp');
  let demo: CliProcess | undefined;
  let base = '';
  let cookie = '';
  let dataDir = '';
  const repoData = join(REPO_ROOT, 'data', 'edgewatch.db');
  const repoDataBefore = existsSync(repoData) ? statSync(repoData).mtimeMs : null;

  beforeAll(async () => {
    mkdirSync(home);
    mkdirSync(tmp);
    const port = await freePort();
    demo = spawnCli(['demo', '--port', String(port)], {
      HOME: home,
      XDG_DATA_HOME: join(home, '.local/share'),
      XDG_STATE_HOME: join(home, '.local/state'),
      XDG_CONFIG_HOME: join(home, '.config'),
      TMPDIR: tmp,
      // A real hub's data directory in the environment must not be where the demo writes.
      EDGEWATCH_DATA: join(home, 'real-hub-data'),
      EDGEWATCH_LOG_LEVEL: 'info',
    });
    const running = await eventually('the demo saying it runs', () => /edgewatch demo is running: open (\S+) \(.*data in ([^,)]+)/.exec(demo!.output()), START_TIMEOUT_MS, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n${demo!.output().slice(-4000)}`);
    });
    base = running[1]!.endsWith('/') ? running[1]! : `${running[1]!}/`;
    dataDir = running[2]!;
    const login = await printedLogin(demo);
    cookie = await apiLogin(base, login.user, login.password);
  }, START_TIMEOUT_MS + 20_000);

  afterAll(async () => {
    await demo?.kill();
    scratch.remove();
  });

  it('keeps its data in a fresh directory under TMPDIR, nowhere else', () => {
    expect(dataDir.startsWith(`${tmp}/edgewatch-demo-`)).toBe(true);
    expect(existsSync(join(dataDir, 'edgewatch.db'))).toBe(true);
    // Nothing under HOME (no XDG data or state dir), and EDGEWATCH_DATA was not read.
    expect(readdirSync(home)).toEqual([]);
    if (repoDataBefore !== null) expect(statSync(repoData).mtimeMs).toBe(repoDataBefore);
  });

  it('lists the replayed devices as demo and this machine as a real device', async () => {
    const res = await fetch(`${base}api/v1/devices`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const { devices } = (await res.json()) as { devices: DeviceSummary[] };
    const demos = devices.filter((d) => d.demo === true);
    expect(demos.map((d) => d.id).sort()).toEqual(DEMO_IDS);
    const real = devices.filter((d) => !DEMO_IDS.includes(d.id));
    expect(real).toHaveLength(1);
    expect(real[0]!.demo).toBeUndefined();
    await eventually('every device online with samples', async () => {
      const { devices: now } = (await (await fetch(`${base}api/v1/devices`, { headers: { cookie } })).json()) as { devices: DeviceSummary[] };
      return now.length === 5 && now.every((d) => d.online && d.latest !== null);
    });
    const h200 = demos.find((d) => d.id === 'demo-h200')!;
    expect(h200.inventory.gpus?.map((g) => g.name)).toEqual(['NVIDIA H200', 'NVIDIA H200']);
    expect(h200.latest!.m['gpu.1.util']).toBeTypeOf('number');
    const orin = demos.find((d) => d.id === 'demo-agx-orin')!;
    expect(orin.inventory.jetson).toMatchObject({ l4t: '36.4.4', powerMode: 'MAXN' });
    expect(Object.keys(orin.latest!.m).filter((k) => k.startsWith('power.rail.')).length).toBeGreaterThan(2);
  });

  it('labels the demo devices\' series on /metrics, and not the real one\'s', async () => {
    const res = await fetch(`${base}metrics`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const id of DEMO_IDS) {
      expect(text).toContain(`edgewatch_device_up{device="${id}",demo="true"} 1`);
      expect(text).toMatch(new RegExp(`^edgewatch_cpu_util_ratio\\{device="${id}",demo="true"\\} `, 'm'));
    }
    expect(text).toMatch(/^edgewatch_gpu_util_ratio\{device="demo-h200",demo="true",gpu="1"\} /m);
    const realUp = text.split('\n').filter((l) => l.startsWith('edgewatch_device_up{') && !l.includes('demo="true"'));
    expect(realUp).toHaveLength(1);
  });

  it('stores the finished bench: 5 fp32 and 5 int8 trials with energy per inference, δ and α', async () => {
    await eventually('the demo saying its history is stored', () => demo!.output().includes('demo: 24 h of history stored'), START_TIMEOUT_MS, 250);
    // The compare link the demo printed: every trial, the first fp32 one the baseline.
    const link = /compare fp32 and int8 \(5 trials each\): \S+#\/compare\?ids=(\S+)&baseline=(\S+)/.exec(demo!.output());
    expect(link).not.toBeNull();
    const ids = link![1]!.split(',');
    expect(ids).toHaveLength(10);
    const res = await fetch(`${base}api/v1/experiments/compare?ids=${ids.join(',')}&baseline=${link![2]}`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const cmp = (await res.json()) as { experiments: Record<string, unknown>[]; groups: { name: string; runs: number; trials: unknown }[] };
    expect(cmp.groups.map((g) => [g.name, g.runs])).toEqual([
      ['resnet50/fp32', 5],
      ['resnet50/int8', 5],
    ]);
    const int8 = cmp.experiments.find((e) => e.id === ids[1])!;
    expect(int8.speedupP50 as number).toBeGreaterThan(2);
    expect(int8.compressionBytes as number).toBeGreaterThan(3.5);
    expect(int8.powerSource).toBe('board');
    const fp32 = cmp.experiments.find((e) => e.id === ids[0])!;
    expect(int8.energyPerInferenceJ as number).toBeGreaterThan(0);
    expect(int8.energyPerInferenceJ as number).toBeLessThan(fp32.energyPerInferenceJ as number);
    expect(int8.warmupInferences).toBe(20);
    expect(fp32.firstCallMs as number).toBeGreaterThan(100);
  }, START_TIMEOUT_MS + 30_000);

  it('removes its temporary data directory when stopped', async () => {
    await demo!.kill('SIGINT');
    expect(existsSync(dataDir)).toBe(false);
  });
});
