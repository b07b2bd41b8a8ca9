// Recorded boards, end to end: the real standalone agent (dist/edgewatch-agent.mjs) runs
// against fixture /sys trees with fake tegrastats, nvpmodel and vcgencmd on its PATH that replay
// real captures; it streams to a real hub, and Chromium shows the Jetson and Pi panels built
// from what the agent's collectors made of those captures. Nothing between the capture and
// the pixels is hand-written.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../dashboard/server/hub.js';
import { eventually, getJson, REPO_ROOT } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, startUiHub, watchPage } from './harness.js';

const AGENT = join(REPO_ROOT, 'dist/edgewatch-agent.mjs');
const FAKE_BIN = join(REPO_ROOT, 'test/fixtures/bin');
const SYSROOTS = join(REPO_ROOT, 'test/fixtures/sysroot');

interface Agent {
  child: ChildProcess;
  output: () => string;
}

describe.skipIf(!HAVE_BROWSER)('recorded Jetson and Pi captures through the real agent, hub and browser', () => {
  let hub: Hub | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  let browser: Browser | undefined;
  let base = '';
  const agents: Agent[] = [];
  const pageErrors: string[] = [];

  /**
   * A PATH holding only the fakes this board has: test/fixtures/bin also holds a fake
   * nvidia-smi, which a real Pi or Jetson does not answer.
   */
  function toolPath(id: string, tools: string[]): string {
    const dir = join(tmp!.dir, `${id}-bin`);
    mkdirSync(dir);
    for (const tool of tools) symlinkSync(join(FAKE_BIN, tool), join(dir, tool));
    // The fakes are node scripts (#!/usr/bin/env node): keep this node findable.
    return `${dir}:${dirname(process.execPath)}:/usr/bin:/bin`;
  }

  function startAgent(id: string, tools: string[], args: string[], env: NodeJS.ProcessEnv): Agent {
    const child = spawn(
      process.execPath,
      [AGENT, '--hub', `ws://127.0.0.1:${hub!.port}/ws/agent`, '--id', id, '--name', id, '--interval', '500ms', '--inference-port', '0', '--state-dir', join(tmp!.dir, id), ...args],
      { env: { ...process.env, PATH: toolPath(id, tools), EDGEWATCH_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const agent = { child, output: () => log };
    agents.push(agent);
    return agent;
  }

  async function latest(id: string): Promise<{ capabilities: string[]; latest: { m: Record<string, number> } | null } | undefined> {
    const { devices } = await getJson<{ devices: { id: string; capabilities: string[]; latest: { m: Record<string, number> } | null }[] }>(`${base}api/v1/devices`);
    return devices.find((d) => d.id === id);
  }

  async function openDevice(id: string): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    watchPage(page, { errors: pageErrors });
    await page.goto(`${base}#/device/${id}`);
    return page;
  }

  beforeAll(async () => {
    tmp = tempDir('edgewatch-replay-');
    hub = await startUiHub(tmp.dir);
    base = `http://127.0.0.1:${hub.port}/`;

    // A Jetson Nano (device tree, L4T R32.7.4) replaying a Nano's tegrastats capture; this
    // machine's own /proc supplies CPU, memory and processes. A (fake) nvidia-smi is on its
    // PATH too: on a Jetson the agent must leave the GPU to tegrastats.
    const nano = join(SYSROOTS, 'jetson-nano');
    startAgent('nano-replay', ['tegrastats', 'nvpmodel', 'nvidia-smi'], ['--sys-root', join(nano, 'sys'), '--host-root', nano], {
      FAKE_TEGRASTATS_FIXTURE: 'nano_l4t32_jetson-stats-commented.txt',
    });
    // A Raspberry Pi 3 whose firmware node reads 50005 (under-voltage and throttled, now and
    // since boot), with vcgencmd answering from Pi captures.
    const pi3 = join(SYSROOTS, 'raspberry-pi-3');
    startAgent('pi3-replay', ['vcgencmd'], ['--sys-root', join(pi3, 'sys'), '--proc-root', join(pi3, 'proc'), '--host-root', pi3, '--process-interval', '0'], {});

    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    for (const a of agents) a.child.kill('SIGTERM');
    await browser?.close().catch(() => {});
    await hub?.close();
    tmp?.remove();
  }, 30_000);

  it('a Jetson Nano replaying tegrastats: the agent stands nvidia-smi down and the Jetson panel shows the capture', async () => {
    // nano_l4t32_jetson-stats-commented.txt: … EMC_FREQ 10%@1600 GR3D_FREQ 0%@76 NVENC 716 NVDEC 716
    // APE 25 PLL@57C CPU@60.5C PMIC@100C GPU@59C AO@65C thermal@59.75C POM_5V_IN 4520/4680
    // POM_5V_GPU 0/0 POM_5V_CPU 1078/1205
    const device = await eventually(
      'the Nano agent streaming tegrastats values',
      async () => {
        const d = await latest('nano-replay');
        return d?.latest?.m['power.board'] !== undefined ? d : undefined;
      },
      30_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nagent log:\n${agents[0]!.output().slice(-3000)}`);
    });
    expect(device.capabilities).toContain('jetson');
    expect(device.capabilities).not.toContain('nvidia-gpu');
    expect(device.latest!.m).toMatchObject({
      'power.board': 4.52,
      'power.rail.pom_5v_cpu': 1.078,
      'power.rail.pom_5v_cpu.avg': 1.205,
      'jetson.emc.util': 10,
      'jetson.emc.freq': 1600,
      'gpu.0.clock.gr': 76,
      'jetson.engine.nvenc.freq': 716,
      'temp.gpu': 59,
    });
    expect(device.latest!.m['temp.pmic']).toBeUndefined(); // the constant PMIC@100C is not a reading

    const page = await openDevice('nano-replay');
    const panel = page.locator('[data-panel="jetson"]');
    await panel.waitFor({ state: 'visible' });
    await expect.poll(() => panel.locator('[data-field="board-power"]').textContent()).toBe('4.5 W');
    await expect.poll(() => panel.locator('[data-field="emc-freq"]').textContent()).toBe('1.60 GHz');
    await expect.poll(() => panel.locator('[data-field="gpu-freq"]').textContent()).toBe('76 MHz');
    await expect.poll(() => panel.locator('[data-engine="nvenc"]').textContent()).toContain('716 MHz');
    await expect.poll(() => panel.locator('[data-rail="pom_5v_cpu"]').textContent()).toMatch(/POM_5V_CPU\s*1\.1 W\s*1\.2 W/);
    // Inventory from the device tree, /etc/nv_tegra_release and the fake nvpmodel.
    await expect.poll(() => page.locator('dl.inventory').textContent()).toContain('NVIDIA Jetson Nano Developer Kit');
    await expect.poll(() => page.locator('dl.inventory').textContent()).toContain('L4T R32.7.4');
    await expect.poll(() => panel.locator('[data-field="power-mode"]').textContent()).toContain('MAXN');
    // This machine's real processes, through the agent's process table.
    await expect.poll(() => page.locator('table.proc-table tbody tr').count(), { timeout: 20_000 }).toBeGreaterThan(3);
    await page.screenshot({ path: join(ARTIFACTS, 'replay-jetson.png'), fullPage: true });
    await page.screenshot({ path: join(ARTIFACTS, 'replay-jetson-top.png') });
    await page.context().close();
  }, 60_000);

  it('a Raspberry Pi 3 with a throttled firmware node: red badges, vcgencmd clocks and the board model', async () => {
    const device = await eventually(
      'the Pi agent streaming throttle flags and vcgencmd values',
      async () => {
        const d = await latest('pi3-replay');
        return d?.latest?.m['pi.throttle.bits'] !== undefined && d.latest.m['pi.clock.arm'] !== undefined && d.latest.m['pi.volt.core'] !== undefined ? d : undefined;
      },
      30_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nagent log:\n${agents[1]!.output().slice(-3000)}`);
    });
    expect(device.capabilities).toContain('raspberry-pi');
    expect(device.latest!.m).toMatchObject({
      'pi.throttle.bits': 0x50005,
      'pi.throttle.under_voltage': 1,
      'pi.throttle.throttled': 1,
      'pi.throttle.freq_capped': 0,
      'pi.throttle.under_voltage_since_boot': 1,
      'pi.volt.core': 1.2,
    });

    const page = await openDevice('pi3-replay');
    const panel = page.locator('[data-panel="pi"]');
    await panel.waitFor({ state: 'visible' });
    for (const flag of ['under_voltage', 'throttled']) {
      const badge = panel.locator(`[data-flag="${flag}"]`);
      await expect.poll(() => badge.getAttribute('data-state'), { timeout: 15_000 }).toBe('now');
      await expect.poll(() => badge.textContent()).toMatch(/now, at least since \d/);
    }
    await expect.poll(() => panel.locator('[data-flag="freq_capped"]').getAttribute('data-state')).toBe('ok');
    await expect.poll(() => panel.locator('[data-metric="pi.volt.core"]').textContent()).toContain('1.20 V');
    await expect.poll(() => page.locator('dl.inventory').textContent()).toContain('Raspberry Pi 3 Model B Rev 1.2');
    await page.screenshot({ path: join(ARTIFACTS, 'replay-pi.png'), fullPage: true });
    await page.screenshot({ path: join(ARTIFACTS, 'replay-pi-top.png') });
    await page.context().close();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
