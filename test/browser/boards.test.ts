// The device page for a Jetson and a Raspberry Pi, end to end: a real hub (in this process,
// serving the built dist/web), devices fed through raw agent sockets with recorded values, and
// Debian's Chromium through playwright-core. Screenshots land in test-artifacts/ (git-ignored).
//
// The Jetson sample is what the tegrastats parser makes of the first line of
// test/fixtures/tegrastats/agx-orin-64gb_l4t-r36.4.4_nvenc-active.txt (names per
// shared/catalog.ts); the Pi's flags are `vcgencmd get_throttled` = 0x50005 decoded.
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../dashboard/server/hub.js';
import { PROTOCOL_VERSION, type Inventory, type ProcessTable, type Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, noHorizontalOverflow, newWatchedPage, startUiHub } from './harness.js';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const MiB = 1024 * 1024;
const HOSTILE = '<img src=x onerror=alert(1)>';

const JETSON_ID = 'agx-orin-lab';
const PI_ID = 'pi4-lab';

const JETSON_INVENTORY: Inventory = {
  os: { platform: 'linux', distro: 'Ubuntu', release: '22.04.5 LTS', kernel: '5.15.148-tegra', arch: 'arm64' },
  cpu: { manufacturer: 'ARM', brand: 'Cortex-A78AE', cores: 12, physicalCores: 12, speedMaxMHz: 2201.6 },
  board: { model: 'NVIDIA Jetson AGX Orin Developer Kit', compatible: ['nvidia,p3737-0000+p3701-0005', 'nvidia,p3701-0005', 'nvidia,tegra234'] },
  jetson: { l4t: '36.4.4', jetpack: '6.2.1', soc: 'tegra234', powerMode: 'MAXN', powerModeId: 0 },
  memTotalBytes: 62841 * MiB,
};

const PI_INVENTORY: Inventory = {
  os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12 (bookworm)', kernel: '6.6.51+rpt-rpi-v8', arch: 'arm64' },
  cpu: { manufacturer: 'ARM', brand: 'Cortex-A72', cores: 4, physicalCores: 4, speedMaxMHz: 1800 },
  board: { manufacturer: 'Raspberry Pi', model: 'Raspberry Pi 4 Model B Rev 1.4', revision: 'c03114' },
  memTotalBytes: 3884 * MiB,
};

/**
 * `05-09-2026 18:42:06 RAM 18207/62841MB (lfb 466x4MB) SWAP 86/31420MB (cached 0MB) CPU [14%@2188,…]
 * EMC_FREQ 3%@2133 GR3D_FREQ 0%@[0,0] NVENC 79%@166 NVDEC off NVJPG off NVJPG1 off VIC 36%@115 OFA off
 * NVDLA0 off NVDLA1 off PVA0_FREQ off APE 174 cpu@52.562C soc2@48.437C soc0@49.093C tj@52.562C
 * soc1@49.656C VDD_GPU_SOC 2412mW/2412mW VDD_CPU_CV 1607mW/1607mW VIN_SYS_5V0 4707mW/4707mW`
 */
function jetsonValues(nvenc: { util: number; freq: number } = { util: 79, freq: 166 }): Record<string, number> {
  const cores: [number, number][] = [
    [14, 2188], [5, 2112], [8, 2035], [14, 2201], [46, 1267], [47, 1267], [2, 1267], [10, 1267], [4, 1036], [5, 1036], [6, 1036], [10, 1036],
  ];
  const m: Record<string, number> = {
    'mem.used': 18207 * MiB,
    'mem.total': 62841 * MiB,
    // lfb 466x4MB: 466 free blocks of the largest size, 4 MB.
    'mem.lfb': 4 * MiB,
    'swap.used': 86 * MiB,
    'swap.total': 31420 * MiB,
    'swap.cached': 0,
    'cpu.util': cores.reduce((s, c) => s + c[0], 0) / cores.length,
    'jetson.emc.util': 3,
    'jetson.emc.freq': 2133,
    'gpu.0.util': 0,
    'gpu.0.clock.gr': 0,
    'gpu.0.gpc.0.freq': 0,
    'gpu.0.gpc.1.freq': 0,
    'jetson.engine.nvenc.util': nvenc.util,
    'jetson.engine.nvenc.freq': nvenc.freq,
    'jetson.engine.nvenc.on': 1,
    'jetson.engine.vic.util': 36,
    'jetson.engine.vic.freq': 115,
    'jetson.engine.vic.on': 1,
    'jetson.engine.ape.freq': 174,
    'temp.cpu': 52.562,
    'temp.soc2': 48.437,
    'temp.soc0': 49.093,
    'temp.tj': 52.562,
    'temp.soc1': 49.656,
    'power.rail.vdd_gpu_soc': 2.412,
    'power.rail.vdd_gpu_soc.avg': 2.412,
    'power.rail.vdd_cpu_cv': 1.607,
    'power.rail.vdd_cpu_cv.avg': 1.607,
    'power.rail.vin_sys_5v0': 4.707,
    'power.rail.vin_sys_5v0.avg': 4.707,
    // No input rail on this line: the board total is the sum of the rails.
    'power.board': 2.412 + 1.607 + 4.707,
  };
  cores.forEach(([util, freq], n) => {
    m[`cpu.core.${n}.util`] = util;
    m[`cpu.core.${n}.freq`] = freq;
  });
  for (const e of ['nvdec', 'nvjpg', 'nvjpg1', 'ofa', 'nvdla0', 'nvdla1', 'pva0']) m[`jetson.engine.${e}.on`] = 0;
  return m;
}

/** get_throttled as the Pi collector decodes it. */
function piValues(bits: number): Record<string, number> {
  const flag = (bit: number) => ((bits >> bit) & 1 ? 1 : 0);
  return {
    'cpu.util': 97,
    'mem.used': 1200 * MiB,
    'mem.total': 3884 * MiB,
    'temp.cpu_thermal': bits ? 84.2 : 61.3,
    'pi.throttle.bits': bits,
    'pi.throttle.under_voltage': flag(0),
    'pi.throttle.freq_capped': flag(1),
    'pi.throttle.throttled': flag(2),
    'pi.throttle.soft_temp_limit': flag(3),
    'pi.throttle.under_voltage_since_boot': flag(16),
    'pi.throttle.freq_capped_since_boot': flag(17),
    'pi.throttle.throttled_since_boot': flag(18),
    'pi.throttle.soft_temp_limit_since_boot': flag(19),
    'pi.clock.arm': bits ? 600 : 1800,
    'pi.clock.core': bits ? 250 : 500,
    'pi.volt.core': bits ? 0.8563 : 0.9,
  };
}

function processTable(cpuShift = 0): ProcessTable {
  return {
    total: 312,
    rows: [
      {
        pid: 4242,
        name: 'python3',
        user: 'ml',
        cmd: 'python3 train.py --model resnet50 --epochs 90 --batch-size 256 --data /mnt/datasets/imagenet --amp --workers 8',
        cpu: 187.5 + cpuShift,
        rss: 3.2 * 1024 * MiB,
        readBps: 48e6,
        writeBps: 1.2e6,
        gpuMem: 2.1 * 1024 * MiB,
        threads: 41,
      },
      { pid: 666, name: HOSTILE, user: '<b>eve</b>', cmd: `${HOSTILE} --payload "><script>alert(2)</script>`, cpu: 3.1, rss: 10 * MiB },
      { pid: 1, name: 'systemd', user: 'root', cmd: '/sbin/init splash', cpu: 0.1 + cpuShift, rss: 12 * MiB, readBps: 0, writeBps: 0 },
      { pid: 1337, name: 'nvargus-daemon', user: 'root', cmd: '/usr/sbin/nvargus-daemon', cpu: 12, rss: 58 * MiB, gpuMem: 96 * MiB },
    ],
  };
}

describe.skipIf(!HAVE_BROWSER)('device page for a Jetson and a Raspberry Pi in Chromium', () => {
  let hub: Hub | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  let browser: Browser | undefined;
  let base = '';
  let jetson: TestPeer | undefined;
  let pi: TestPeer | undefined;
  let seq = 0;
  /** When the Pi's first under-voltage sample was taken (12 minutes before the data was sent). */
  let piFlagsSetAt = 0;
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  const newPage = (viewport: { width: number; height: number }) => newWatchedPage(browser!, viewport, { errors: pageErrors, dialogs }, { httpErrors: true });

  async function send(peer: TestPeer, samples: Sample[]): Promise<void> {
    const s = ++seq;
    peer.send({ type: 'batch', v: PROTOCOL_VERSION, seq: s, samples });
    await peer.waitFor((f) => f.type === 'ack' && f.seq === s);
  }

  beforeAll(async () => {
    tmp = tempDir('edgewatch-boards-');
    hub = await startUiHub(tmp.dir);
    base = `http://127.0.0.1:${hub.port}/`;
    const agentUrl = `ws://127.0.0.1:${hub.port}/ws/agent`;
    const now = Date.now();

    jetson = await TestPeer.connect(agentUrl);
    jetson.send(
      helloFrame(JETSON_ID, {
        device: { id: JETSON_ID, name: 'agx-orin <b>lab</b>', hostname: 'orin.local' },
        capabilities: ['cpu', 'memory', 'tegrastats'],
        inventory: JETSON_INVENTORY,
      }),
    );
    await jetson.waitFor((f) => f.type === 'welcome');
    const jetsonSamples: Sample[] = [];
    for (let i = 30; i >= 1; i--) jetsonSamples.push({ t: now - i * 1000, m: jetsonValues() });
    jetsonSamples[jetsonSamples.length - 1]!.p = processTable();
    await send(jetson, jetsonSamples);

    pi = await TestPeer.connect(agentUrl);
    pi.send(
      helloFrame(PI_ID, {
        device: { id: PI_ID, name: 'pi4-lab', hostname: 'raspberrypi' },
        intervalMs: 2000,
        capabilities: ['cpu', 'memory', 'vcgencmd'],
        inventory: PI_INVENTORY,
      }),
    );
    await pi.waitFor((f) => f.type === 'welcome');
    // 20 minutes at 2 s: fine until 12 minutes ago, then under-voltage and throttling (0x50005).
    const piSamples: Sample[] = [];
    for (let i = 600; i >= 0; i--) piSamples.push({ t: now - i * 2000, m: piValues(i > 360 ? 0 : 0x50005) });
    piFlagsSetAt = now - 360 * 2000;
    await send(pi, piSamples);

    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    jetson?.close();
    pi?.close();
    await browser?.close().catch(() => {});
    await hub?.close();
    tmp?.remove();
  }, 30_000);

  it('shows the Jetson panel, inventory and power charts, and updates them live', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      await page.goto(`${base}#/device/${JETSON_ID}`);
      const panel = page.locator('[data-panel="jetson"]');
      await panel.waitFor({ state: 'visible' });
      await expect.poll(() => page.locator('h1.device-title').textContent()).toBe('agx-orin <b>lab</b>');

      // Inventory in the header: model, OS + kernel, JetPack/L4T, power mode, CPU, GPU, RAM.
      const inventory = page.locator('dl.inventory');
      await expect.poll(() => inventory.textContent()).toContain('NVIDIA Jetson AGX Orin Developer Kit');
      const inv = (await inventory.textContent()) ?? '';
      expect(inv).toContain('Ubuntu 22.04.5 LTS · Linux 5.15.148-tegra · arm64');
      expect(inv).toContain('JetPack 6.2.1 · L4T R36.4.4');
      expect(inv).toContain('MAXN (mode 0)');
      expect(inv).toContain('Cortex-A78AE');
      expect(inv).toContain('tegra234 · integrated, shares RAM');
      expect(inv).toContain('61.4 GiB');

      // Panel: power mode, clocks, engines, rails with the board total.
      expect(await panel.locator('[data-field="power-mode"]').textContent()).toBe('Power mode MAXN (mode 0)');
      expect(await panel.locator('.panel-sub').textContent()).toBe('JetPack 6.2.1 · L4T R36.4.4 · tegra234');
      await expect.poll(() => panel.locator('[data-field="emc-freq"]').textContent()).toBe('2.13 GHz');
      expect(await panel.locator('[data-field="emc-util"]').textContent()).toBe('load 3.0 %');
      expect(await panel.locator('[data-field="gpu-util"]').textContent()).toBe('load 0 %');
      const nvenc = panel.locator('[data-engine="nvenc"]');
      expect(await nvenc.textContent()).toBe('NVENCon79 %166 MHz');
      expect(await nvenc.getAttribute('data-on')).toBe('true');
      expect(await panel.locator('[data-engine="vic"]').textContent()).toContain('36 %');
      for (const off of ['nvdec', 'nvjpg', 'nvjpg1', 'ofa', 'nvdla0', 'nvdla1', 'pva0']) {
        const cell = panel.locator(`[data-engine="${off}"]`);
        expect(await cell.getAttribute('class')).toContain('is-off');
        expect(await cell.locator('.engine-state').textContent()).toBe('off');
      }
      const rail = (key: string) => panel.locator(`tr[data-rail="${key}"] td`).allTextContents();
      expect(await rail('vdd_gpu_soc')).toEqual(['VDD_GPU_SOC', '2.4 W', '2.4 W']);
      expect(await rail('vdd_cpu_cv')).toEqual(['VDD_CPU_CV', '1.6 W', '1.6 W']);
      expect(await rail('vin_sys_5v0')).toEqual(['VIN_SYS_5V0', '4.7 W', '4.7 W']);
      expect(await rail('board')).toEqual(['Board total', '8.7 W', '8.7 W']);
      expect(await panel.locator('tr.is-total').count()).toBe(1);
      expect(await panel.locator('[data-field="board-power"]').textContent()).toBe('8.7 W');

      // Charts planned from the names: power (board bold + rails), GPU utilisation and GPC clocks.
      for (const chart of ['power', 'gpu-util', 'gpu-clock', 'cpu', 'memory', 'temp']) {
        await expect.poll(async () => Number(await page.locator(`canvas[data-chart="${chart}"]`).getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThan(0);
      }

      // Live: the next tegrastats line has NVENC 50%@204.
      await send(jetson!, [{ t: Date.now(), m: jetsonValues({ util: 50, freq: 204 }) }]);
      await expect.poll(() => nvenc.textContent()).toBe('NVENCon50 %204 MHz');

      await page.waitForTimeout(500);
      await page.screenshot({ path: join(ARTIFACTS, 'jetson-desktop.png') });
      await page.screenshot({ path: join(ARTIFACTS, 'jetson-desktop-full.png'), fullPage: true });
    } finally {
      await context.close();
    }
  }, 60_000);

  it('lists processes, sorts by a clicked column across live updates, and shows hostile names as text', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      await page.goto(`${base}#/device/${JETSON_ID}`);
      const procs = page.locator('[data-panel="processes"]');
      await page.locator('[data-panel="jetson"]').waitFor({ state: 'visible' }).catch(async (e) => {
        await page.screenshot({ path: join(ARTIFACTS, 'debug-procs.png'), fullPage: true });
        console.log(await page.evaluate('document.body.innerHTML.slice(0, 3000)'));
        throw e;
      });
      // Live mode starts from the newest table the hub kept (GET …/processes).
      await expect.poll(() => procs.getAttribute('data-rows')).toBe('4');
      // A fresh table over the live feed (the agent sends one every ~5 s).
      const t1 = Date.now();
      await send(jetson!, [{ t: t1, m: jetsonValues(), p: processTable() }]);
      await expect.poll(() => procs.getAttribute('data-t')).toBe(String(t1));
      await procs.waitFor({ state: 'visible' });
      const pids = () => procs.locator('tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-pid'))));
      expect(await procs.locator('.panel-sub').textContent()).toMatch(/^4 of 312 processes · /);

      // Default: CPU, highest first.
      expect(await pids()).toEqual([4242, 1337, 666, 1]);
      expect(await procs.locator('th[aria-sort]').getAttribute('data-sort-key')).toBe('cpu');

      // Hostile text is text: no element, no dialog.
      const hostile = procs.locator('tr[data-pid="666"]');
      expect(await hostile.locator('[data-col="name"]').textContent()).toBe(HOSTILE);
      expect(await hostile.locator('[data-col="user"]').textContent()).toBe('<b>eve</b>');
      expect(await hostile.locator('[data-col="cmd"]').getAttribute('title')).toBe(`${HOSTILE} --payload "><script>alert(2)</script>`);
      expect(await page.locator('img[src="x"], script:not([src]), b').count()).toBe(0);
      // Long commands are shortened, the full text in the title.
      const cmd = procs.locator('tr[data-pid="4242"] [data-col="cmd"]');
      expect(await cmd.textContent()).toMatch(/…$/);
      expect(await cmd.getAttribute('title')).toContain('--workers 8');
      expect(await procs.locator('tr[data-pid="4242"] [data-col="gpuMem"]').textContent()).toBe('2.10 GiB');
      expect(await procs.locator('tr[data-pid="4242"] [data-col="readBps"]').textContent()).toBe('48.0 MB/s');

      // Text columns sort A→Z first, numeric ones highest first; a second click flips.
      await procs.locator('th[data-sort-key="name"] button').click();
      expect(await procs.getAttribute('data-sort')).toBe('name:asc');
      expect(await pids()).toEqual([666, 1337, 4242, 1]);
      await procs.locator('th[data-sort-key="rss"] button').click();
      expect(await pids()).toEqual([4242, 1337, 1, 666]);
      await procs.locator('th[data-sort-key="rss"] button').click();
      expect(await procs.getAttribute('data-sort')).toBe('rss:asc');
      expect(await pids()).toEqual([666, 1, 1337, 4242]);
      await procs.locator('th[data-sort-key="pid"] button').click();
      expect(await procs.getAttribute('data-sort')).toBe('pid:desc');
      expect(await pids()).toEqual([4242, 1337, 666, 1]);
      await procs.locator('th[data-sort-key="cpu"] button').click();
      expect(await procs.locator('th[aria-sort]').getAttribute('aria-sort')).toBe('descending');

      // The next table (systemd now busiest) keeps the chosen sort.
      const t2 = t1 + 5000;
      await send(jetson!, [{ t: t2, m: jetsonValues(), p: processTable(300) }]);
      await expect.poll(() => procs.getAttribute('data-t')).toBe(String(t2));
      expect(await procs.getAttribute('data-sort')).toBe('cpu:desc');
      expect(await pids()).toEqual([4242, 1, 1337, 666]);

      await page.locator('[data-panel="processes"]').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ARTIFACTS, 'processes-desktop.png') });
      expect(dialogs).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('shows the snapshot at the end of a history range', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      await page.goto(`${base}#/device/${JETSON_ID}?range=15m`);
      const procs = page.locator('[data-panel="processes"]');
      await expect.poll(() => procs.getAttribute('data-rows'), { timeout: 10_000 }).toBe('4');
      expect(Number(await procs.getAttribute('data-t'))).toBeGreaterThan(0);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('shows the Pi flags as badges with when they were set, clocks and core voltage', async () => {
    const { context, page } = await newPage(DESKTOP);
    try {
      const opened = Date.now();
      await page.goto(`${base}#/device/${PI_ID}`);
      const panel = page.locator('[data-panel="pi"]');
      await panel.waitFor({ state: 'visible' }).catch(async (e) => {
        await page.screenshot({ path: join(ARTIFACTS, 'debug-pi.png'), fullPage: true });
        console.log(await page.evaluate('document.body.innerHTML.slice(0, 3000)'));
        throw e;
      });
      await expect.poll(() => panel.getAttribute('data-timing'), { timeout: 10_000 }).toBe('loaded');
      const badge = (flag: string) => panel.locator(`[data-flag="${flag}"]`);
      await expect.poll(() => badge('under_voltage').getAttribute('data-state')).toBe('now');
      await expect.poll(() => badge('throttled').getAttribute('data-state')).toBe('now');
      await expect.poll(() => badge('freq_capped').getAttribute('data-state')).toBe('ok');
      await expect.poll(() => badge('soft_temp_limit').getAttribute('data-state')).toBe('ok');
      // Set since the first sample with the bit, as a clock time and an age. The age is 12 min
      // when the data was just sent, more when the suite has run a while on a loaded machine;
      // the text is written when the timing loads, some time between opening the page and now.
      for (const flag of ['under_voltage', 'throttled']) {
        const text = (await badge(flag).locator('.flag-when').textContent()) ?? '';
        const m = /^now, since \d{1,2}:\d{2}( [AP]M)? \((\d+) min ago\)$/.exec(text);
        expect(m, text).not.toBeNull();
        expect(Number(m![2]), text).toBeGreaterThanOrEqual(Math.floor((opened - piFlagsSetAt) / 60_000) - 1);
        expect(Number(m![2]), text).toBeLessThanOrEqual(Math.ceil((Date.now() - piFlagsSetAt) / 60_000) + 1);
      }
      expect(await badge('freq_capped').locator('.flag-when').textContent()).toBe('ok');
      const background = (flag: string) => page.evaluate(`getComputedStyle(document.querySelector('[data-flag="${flag}"]')).backgroundColor`);
      const red = await background('under_voltage');
      const green = await background('freq_capped');
      expect(red).not.toBe(green);

      expect(await panel.locator('[data-metric="pi.clock.arm"]').textContent()).toBe('ARM clock600 MHz');
      expect(await panel.locator('[data-metric="pi.clock.core"]').textContent()).toBe('Core clock250 MHz');
      expect(await panel.locator('[data-metric="pi.volt.core"]').textContent()).toBe('Core voltage0.86 V');
      expect(await page.locator('dl.inventory').textContent()).toContain('Raspberry Pi 4 Model B Rev 1.4 · rev c03114');
      expect(await page.locator('[data-panel="jetson"]').count()).toBe(0);
      for (const chart of ['volt']) {
        await expect.poll(async () => Number(await page.locator(`canvas[data-chart="${chart}"]`).getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThan(0);
      }
      await page.screenshot({ path: join(ARTIFACTS, 'pi-desktop.png') });

      // The supply recovers: now flags clear, the sticky bits stay → amber, "last" at its last sample.
      const before = Date.now();
      await send(pi!, [{ t: before, m: piValues(0x50000) }]);
      await expect.poll(() => badge('under_voltage').getAttribute('data-state')).toBe('since-boot');
      await expect
        .poll(() => badge('under_voltage').locator('.flag-when').textContent(), { timeout: 10_000 })
        .toMatch(/^since boot, last \d{1,2}:\d{2}( [AP]M)? \(\d+ (s|min) ago\)$/);

      // A history range looks the times up inside that range.
      await page.locator('[data-range-key="1h"]').click();
      await expect.poll(() => badge('throttled').locator('.flag-when').textContent(), { timeout: 10_000 }).toMatch(/^since boot, last /);
      await page.screenshot({ path: join(ARTIFACTS, 'pi-desktop-1h.png') });
    } finally {
      await context.close();
    }
  }, 60_000);

  it('fits a 390 px phone screen', async () => {
    const { context, page } = await newPage(PHONE);
    try {
      for (const id of [JETSON_ID, PI_ID]) {
        await page.goto(`${base}#/device/${id}`);
        await page.locator(`[data-panel="${id === PI_ID ? 'pi' : 'jetson'}"]`).waitFor({ state: 'visible' });
        await expect.poll(async () => Number(await page.locator('canvas[data-chart="cpu"]').getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThan(0);
        await page.waitForTimeout(500);
        await noHorizontalOverflow(page);
        await page.screenshot({ path: join(ARTIFACTS, `${id === PI_ID ? 'pi' : 'jetson'}-phone.png`) });
        await page.screenshot({ path: join(ARTIFACTS, `${id === PI_ID ? 'pi' : 'jetson'}-phone-full.png`), fullPage: true });
        await page.locator(`[data-panel="${id === PI_ID ? 'pi' : 'jetson'}"]`).screenshot({ path: join(ARTIFACTS, `${id === PI_ID ? 'pi' : 'jetson'}-phone-panel.png`) });
        if (id === JETSON_ID) {
          await page.locator('[data-panel="processes"]').screenshot({ path: join(ARTIFACTS, 'processes-phone.png') });
          await page.locator('dl.inventory').screenshot({ path: join(ARTIFACTS, 'jetson-phone-inventory.png') });
        }
      }
    } finally {
      await context.close();
    }
  }, 60_000);

  it('ran without page errors, CSP violations or dialogs', () => {
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
