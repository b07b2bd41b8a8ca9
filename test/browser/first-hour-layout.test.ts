// What a new user meets in the first hour, in Chromium at 1280×800 and 390×844, against an
// in-process hub with logins on (so "Log out" is in the header) fed by raw agent sockets:
//
// - the header on every page: each nav link fully on screen and the element at its centre is
//   that link (on a phone "Alerts" once sat under "Log out": tapping it logged you out), the
//   live badge and "Log out" never overlap a link;
// - a device without GPU or sensors (a VM) says what is absent instead of leaving it out, hides
//   the always-zero virtual interfaces (ifb0, ifb1) until asked, and its tables show a scroll cue
//   on a phone;
// - fleet cards show load, disk, network, the hottest temperature and since when the hub knows
//   the device; an offline card's last values look stale.
//
// Screenshots land in test-artifacts/first-hour-*.png. Needs Chromium: see harness.ts.
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Credentials } from '../../dashboard/server/auth/credentials.js';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION, type Hello, type Inventory, type ProcessTable, type Sample } from '../../shared/protocol.js';
import { eventually } from '../helpers/processes.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { isStatusConsoleError, logInThroughForm } from './auth-helpers.js';
import { ARTIFACTS, HAVE_BROWSER, launchChromium, noHorizontalOverflow, privateWebRoot, watchPage } from './harness.js';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const VIEWPORTS = [
  ['desktop', DESKTOP],
  ['phone', PHONE],
] as const;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const SERIES_URL = /\/api\/v1\/devices\/([^/?]+)\/series\?/;

const VM_ID = 'bare-vm';
const NANO_ID = 'nano-lab';
const OLD_ID = 'old-pi';

const VM_INVENTORY: Inventory = {
  os: { platform: 'linux', distro: 'Ubuntu', release: '24.04.1 LTS', kernel: '6.8.0-45-generic', arch: 'x64' },
  cpu: { manufacturer: 'AMD', brand: 'EPYC-Milan Processor', cores: 4, physicalCores: 4 },
  system: { manufacturer: 'QEMU', model: 'Standard PC (Q35 + ICH9, 2009)', virtual: true },
  memTotalBytes: 8 * GiB,
};

/** A VM: CPU, load, memory, disks, filesystems and interfaces; no GPU, thermal zone, fan or power monitor. */
function vmValues(i: number): Record<string, number> {
  const m: Record<string, number> = {
    'cpu.util': 23 + (i % 5),
    'cpu.iowait': 1.5,
    'load.1': 0.42,
    'load.5': 0.37,
    'load.15': 0.3,
    'mem.used': 2.5 * GiB,
    'mem.total': 8 * GiB,
    'mem.available': 5.5 * GiB,
    'mem.cached': 1.2 * GiB,
    'swap.used': 0,
    'swap.total': 2 * GiB,
    'fs.rootfs.used': 31.2 * GiB,
    'fs.rootfs.size': 48 * GiB,
    'fs.rootfs.util': 65,
    'fs.boot_efi.used': 6 * MiB,
    'fs.boot_efi.size': 511 * MiB,
    'fs.boot_efi.util': 1.2,
    'disk.vda.read_bps': 12_000,
    'disk.vda.write_bps': 250_000,
    'disk.vda.util': 3,
    'net.ens3.rx_bps': 1_250_000,
    'net.ens3.tx_bps': 64_000,
    'net.docker0.rx_bps': 2_000,
    'net.docker0.tx_bps': 1_000,
    // Created by the ifb module at load, never used: always zero.
    'net.ifb0.rx_bps': 0,
    'net.ifb0.tx_bps': 0,
    'net.ifb1.rx_bps': 0,
    'net.ifb1.tx_bps': 0,
    'procs.count': 214,
    'procs.running': 2,
  };
  for (let c = 0; c < 4; c++) m[`cpu.core.${c}.util`] = 20 + c * 3;
  return m;
}

function vmProcesses(): ProcessTable {
  return {
    total: 214,
    rows: [
      { pid: 2201, name: 'postgres', user: 'postgres', cmd: 'postgres: checkpointer', cpu: 12.5, rss: 420 * MiB, readBps: 1_200_000, writeBps: 240_000 },
      { pid: 1820, name: 'node', user: 'app', cmd: 'node /srv/app/server.js --port 8080', cpu: 7.1, rss: 310 * MiB, readBps: 0, writeBps: 12_000 },
      { pid: 1, name: 'systemd', user: 'root', cmd: '/sbin/init', cpu: 0.1, rss: 12 * MiB, readBps: 0, writeBps: 0 },
    ],
  };
}

function nanoValues(): Record<string, number> {
  return {
    'cpu.util': 61,
    'load.1': 3.2,
    'load.5': 2.9,
    'load.15': 2.5,
    'mem.used': 2.9 * GiB,
    'mem.total': 3.9 * GiB,
    'fs.rootfs.used': 58 * GiB,
    'fs.rootfs.size': 59 * GiB,
    'fs.rootfs.util': 98.3,
    'net.eth0.rx_bps': 310_000,
    'net.eth0.tx_bps': 4_400_000,
    'gpu.0.util': 88,
    'gpu.0.clock.gr': 921,
    'temp.cpu': 58.5,
    'temp.gpu': 61.25,
    'temp.tj': 62,
    'power.board': 7.9,
    'power.rail.pom_5v_in': 7.9,
  };
}

/** An agent socket with a device token (the hub has logins on). */
class Agent {
  private readonly frames: Record<string, unknown>[] = [];
  private seq = 0;
  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (d) => this.frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
  }

  static async connect(hub: Hub, creds: Credentials, hello: Hello): Promise<Agent> {
    const { token } = creds.createDeviceToken(hello.device.id);
    const socket = new WebSocket(hub.agentUrl, { headers: { authorization: `Bearer ${token}` } });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const agent = new Agent(socket);
    socket.send(JSON.stringify(hello));
    await agent.waitFor((f) => f.type === 'welcome');
    return agent;
  }

  waitFor(match: (f: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    return eventually('a frame from the hub', () => this.frames.find(match), 5000, 20);
  }

  async send(samples: Sample[]): Promise<void> {
    const seq = ++this.seq;
    this.socket.send(JSON.stringify({ type: 'batch', v: PROTOCOL_VERSION, seq, samples }));
    await this.waitFor((f) => f.type === 'ack' && f.seq === seq);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState === WebSocket.CLOSED) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}
interface HeaderGeometry {
  viewport: { width: number; height: number };
  links: { nav: string; box: Box; hit: string | null; fully: boolean }[];
  conn: Box | null;
  logout: Box | null;
  brand: Box | null;
}

/** Where the header's parts are, and what `elementFromPoint` finds at each link's centre. */
const HEADER_GEOMETRY = `(() => {
  const box = (el) => {
    if (!el || el.hidden || getComputedStyle(el).display === 'none') return null;
    const r = el.getBoundingClientRect();
    return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
  };
  const links = [...document.querySelectorAll('.topnav a[data-nav]')].map((a) => {
    const b = box(a);
    const hitEl = document.elementFromPoint((b.left + b.right) / 2, (b.top + b.bottom) / 2);
    const hitLink = hitEl && hitEl.closest('a[data-nav]');
    const hit = hitLink ? hitLink.dataset.nav : hitEl ? hitEl.tagName.toLowerCase() + (hitEl.className ? '.' + String(hitEl.className).split(' ').join('.') : '') : null;
    // Fully visible: inside the viewport and not cut off by an ancestor that clips.
    let fully = b.left >= 0 && b.top >= 0 && b.right <= innerWidth && b.bottom <= innerHeight && a.scrollWidth <= a.clientWidth + 1;
    for (let p = a.parentElement; p && fully; p = p.parentElement) {
      const cs = getComputedStyle(p);
      if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible') {
        const pr = p.getBoundingClientRect();
        fully = b.left >= pr.left - 0.5 && b.right <= pr.right + 0.5 && b.top >= pr.top - 0.5 && b.bottom <= pr.bottom + 0.5;
      }
    }
    return { nav: a.dataset.nav, box: b, hit, fully };
  });
  return {
    viewport: { width: innerWidth, height: innerHeight },
    links,
    conn: box(document.getElementById('conn')),
    logout: box(document.querySelector('[data-action="logout"]')),
    brand: box(document.querySelector('.topbar .brand')),
  };
})()`;

/** The opacity an element is drawn with: its own times its ancestors' (run in the page; no DOM types here). */
const DRAWN_OPACITY = (el: any): number => {
  let o = 1;
  for (let e = el; e; e = e.parentElement) o *= Number((globalThis as any).getComputedStyle(e).opacity);
  return o;
};

function overlaps(a: Box, b: Box): boolean {
  return a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
}

function expectUsableHeader(g: HeaderGeometry, where: string): void {
  expect(g.links.map((l) => l.nav), where).toEqual(['fleet', 'experiments', 'storage', 'alerts']);
  for (const l of g.links) {
    expect(l.fully, `${where}: the ${l.nav} link is cut off (${JSON.stringify(l.box)})`).toBe(true);
    expect(l.hit, `${where}: the element at the centre of the ${l.nav} link`).toBe(l.nav);
    // Big enough to tap.
    expect(l.box.bottom - l.box.top, `${where}: ${l.nav} height`).toBeGreaterThanOrEqual(24);
  }
  expect(g.conn, `${where}: the live badge is shown`).not.toBeNull();
  expect(g.logout, `${where}: "Log out" is shown`).not.toBeNull();
  for (const [name, b] of [['live badge', g.conn!], ['Log out', g.logout!], ['brand', g.brand!]] as const) {
    expect(b.right, `${where}: ${name} inside the viewport`).toBeLessThanOrEqual(g.viewport.width);
    expect(b.left, `${where}: ${name} inside the viewport`).toBeGreaterThanOrEqual(0);
    for (const l of g.links) expect(overlaps(b, l.box), `${where}: ${name} overlaps the ${l.nav} link`).toBe(false);
  }
  expect(overlaps(g.conn!, g.logout!), `${where}: the live badge overlaps "Log out"`).toBe(false);
}

describe.skipIf(!HAVE_BROWSER)('the first hour: header, a bare device and fleet cards (logins on)', () => {
  let tmp: ReturnType<typeof tempDir> | undefined;
  let hub: Hub | undefined;
  let browser: Browser | undefined;
  let base = '';
  let password = '';
  const agents: Agent[] = [];
  const pageErrors: string[] = [];
  const loggedIn = new WeakSet<Page>();

  async function newPage(viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser!.newContext({ viewport, deviceScaleFactor: 1, colorScheme: 'light' });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // Before the login the hub's 401s are expected (Chrome logs each one).
    watchPage(page, { errors: pageErrors }, { ignore: (text) => !loggedIn.has(page) && isStatusConsoleError(text, 401) });
    await page.goto(base);
    await logInThroughForm(page, password);
    loggedIn.add(page);
    await expect.poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 15_000 }).toBe('open');
    return { context, page };
  }

  async function go(page: Page, hash: string, pageName: string): Promise<void> {
    await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
    await page.locator(`[data-page="${pageName}"]`).waitFor({ state: 'visible' });
  }

  beforeAll(async () => {
    tmp = tempDir('edgewatch-first-hour-');
    const webRoot = await privateWebRoot(tmp.dir);
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: join(tmp.dir, 'data'), webRoot, log: silentLogger(), auth: true });
    password = hub.initialLogin!.password;
    base = `http://127.0.0.1:${hub.port}/`;
    const creds = new Credentials(hub.store);
    const now = Date.now();

    // Offline: it reported a minute of samples, then its agent went away.
    const old = await Agent.connect(
      hub,
      creds,
      helloFrame(OLD_ID, {
        device: { id: OLD_ID, name: 'old-pi', hostname: 'raspberrypi' },
        capabilities: ['cpu', 'load', 'memory', 'filesystem', 'network', 'thermal'],
        inventory: { os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12 (bookworm)', kernel: '6.6.51+rpt-rpi-v8', arch: 'arm64' }, memTotalBytes: 3.8 * GiB },
      }),
    );
    const oldSamples: Sample[] = [];
    for (let i = 60; i >= 1; i--) {
      oldSamples.push({
        t: now - i * 1000,
        m: {
          'cpu.util': 41,
          'load.1': 1.25,
          'mem.used': 1.1 * GiB,
          'mem.total': 3.8 * GiB,
          'fs.rootfs.used': 9 * GiB,
          'fs.rootfs.size': 29 * GiB,
          'fs.rootfs.util': 31,
          'net.eth0.rx_bps': 80_000,
          'net.eth0.tx_bps': 20_000,
          'temp.cpu_thermal': 55.5,
        },
      });
    }
    await old.send(oldSamples);
    await old.close();

    const vm = await Agent.connect(
      hub,
      creds,
      helloFrame(VM_ID, {
        device: { id: VM_ID, name: 'bare-vm', hostname: 'bare-vm.lan' },
        capabilities: ['cpu', 'load', 'memory', 'filesystem', 'disk-io', 'network', 'processes'],
        inventory: VM_INVENTORY,
      }),
    );
    const vmSamples: Sample[] = [];
    for (let i = 60; i >= 1; i--) vmSamples.push({ t: now - i * 1000, m: vmValues(i) });
    vmSamples[vmSamples.length - 1]!.p = vmProcesses();
    await vm.send(vmSamples);
    agents.push(vm);

    const nano = await Agent.connect(
      hub,
      creds,
      helloFrame(NANO_ID, {
        device: { id: NANO_ID, name: 'nano-lab', hostname: 'nano.local' },
        capabilities: ['cpu', 'load', 'memory', 'filesystem', 'network', 'tegrastats'],
        inventory: { os: { platform: 'linux', distro: 'Ubuntu', release: '22.04', kernel: '5.15.148-tegra', arch: 'arm64' }, jetson: { l4t: '36.4.0', soc: 'tegra234' } },
      }),
    );
    const nanoSamples: Sample[] = [];
    for (let i = 30; i >= 1; i--) nanoSamples.push({ t: now - i * 1000, m: nanoValues() });
    await nano.send(nanoSamples);
    agents.push(nano);

    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    for (const a of agents) await a.close();
    await browser?.close().catch(() => {});
    await hub?.close();
    tmp?.remove();
  }, 30_000);

  it('header: every nav link is whole and tappable, badge and "Log out" clear of them, on every page at 1280 and 390', async () => {
    const pages = [
      ['fleet', '#/', 'fleet'],
      ['device', `#/device/${VM_ID}`, 'device'],
      ['experiments', '#/experiments', 'experiments'],
      ['storage', '#/storage', 'storage'],
      ['alerts', '#/alerts', 'alerts'],
    ] as const;
    for (const [vpName, viewport] of VIEWPORTS) {
      const { context, page } = await newPage(viewport);
      try {
        for (const [name, hash, pageName] of pages) {
          await go(page, hash, pageName);
          await page.waitForTimeout(150);
          const where = `${name} page at ${viewport.width} px`;
          expectUsableHeader((await page.evaluate(HEADER_GEOMETRY)) as HeaderGeometry, where);
          // The current section is marked.
          expect(await page.locator('.topnav [aria-current="page"]').getAttribute('data-nav'), where).toBe(name === 'device' ? 'fleet' : name);
          await noHorizontalOverflow(page);
          await page.screenshot({ path: join(ARTIFACTS, `first-hour-header-${name}-${vpName}.png`), clip: { x: 0, y: 0, width: viewport.width, height: 160 } });
        }
        // Widths in between (a small tablet, a narrow window) and the narrowest phones.
        for (const width of vpName === 'phone' ? [320, 360, 414] : [641, 700, 768, 1024]) {
          await page.setViewportSize({ width, height: viewport.height });
          await page.waitForTimeout(100);
          expectUsableHeader((await page.evaluate(HEADER_GEOMETRY)) as HeaderGeometry, `alerts page at ${width} px`);
          await noHorizontalOverflow(page);
        }
        await page.setViewportSize(viewport);
        // The reconnecting badge is wider than "live": still clear of the links.
        await page.evaluate("document.getElementById('conn').textContent = 'reconnecting…'");
        expectUsableHeader((await page.evaluate(HEADER_GEOMETRY)) as HeaderGeometry, `"reconnecting…" at ${viewport.width} px`);

        // A tap at the centre of each link goes there; none logs out.
        for (const [nav, hash] of [['alerts', '#/alerts'], ['storage', '#/storage'], ['experiments', '#/experiments'], ['fleet', '#/']] as const) {
          const b = await page.locator(`.topnav [data-nav="${nav}"]`).boundingBox();
          await page.mouse.click(b!.x + b!.width / 2, b!.y + b!.height / 2);
          await expect.poll(() => page.evaluate('location.hash || "#/"')).toBe(hash);
          expect(await page.locator('[data-page="login"]').count()).toBe(0);
          expect(await page.locator('[data-action="logout"]').isVisible()).toBe(true);
        }
      } finally {
        await context.close();
      }
    }
  }, 120_000);

  it('device page of a VM says which panels are absent, hides ifb interfaces until asked, and cues table scrolling at 390 px', async () => {
    for (const [vpName, viewport] of VIEWPORTS) {
      const { context, page } = await newPage(viewport);
      try {
        const seriesAsked: string[][] = [];
        page.on('request', (r: Request) => {
          const m = SERIES_URL.exec(r.url());
          if (m && decodeURIComponent(m[1]!) === VM_ID) seriesAsked.push((new URL(r.url()).searchParams.get('metrics') ?? '').split(','));
        });
        await go(page, `#/device/${VM_ID}`, 'device');
        await expect.poll(async () => Number(await page.locator('canvas[data-chart="net"]').getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThan(0);

        // Absent hardware is named, where its panels would be.
        const absent = page.locator('[data-absent]');
        await expect.poll(() => absent.evaluateAll((els) => els.map((e) => e.getAttribute('data-absent')))).toEqual(['gpu', 'temp', 'fan', 'power']);
        expect(await page.locator('[data-absent="gpu"]').textContent()).toContain('no GPU found');
        expect(await page.locator('[data-absent="temp"]').textContent()).toContain('no temperature sensors found');
        expect(await page.locator('[data-absent="fan"]').textContent()).toContain('no fan sensors found');
        expect(await page.locator('[data-absent="power"]').textContent()).toContain('no power sensors found');
        for (const kind of ['gpu', 'temp', 'fan', 'power']) expect(await page.locator(`[data-absent="${kind}"]`).isVisible()).toBe(true);

        // The network chart: ens3 and docker0, not the always-zero ifb0/ifb1 (until asked).
        const netAsked = () => seriesAsked.flat().filter((m) => m.startsWith('net.'));
        expect(netAsked()).toContain('net.ens3.rx_bps');
        expect(netAsked()).toContain('net.docker0.tx_bps');
        expect(netAsked().filter((m) => m.includes('ifb'))).toEqual([]);
        const toggle = page.locator('[data-action="toggle-virtual-ifaces"]');
        await toggle.waitFor({ state: 'visible' });
        expect(await toggle.textContent()).toMatch(/show 2 virtual interfaces/i);
        expect(await page.locator('[data-field="hidden-ifaces"]').textContent()).toContain('ifb0, ifb1');
        await noHorizontalOverflow(page);
        await page.evaluate('window.scrollTo(0, 0)');
        await page.waitForTimeout(300);
        await page.screenshot({ path: join(ARTIFACTS, `first-hour-device-vm-${vpName}.png`), fullPage: true });
        await page.locator('figure.chart-card[data-chart="net"]').screenshot({ path: join(ARTIFACTS, `first-hour-device-vm-net-${vpName}.png`) });
        await page.locator('.absent-panels').screenshot({ path: join(ARTIFACTS, `first-hour-device-vm-absent-${vpName}.png`) });
        await page.locator('.fs-section').screenshot({ path: join(ARTIFACTS, `first-hour-device-vm-fs-${vpName}.png`) });

        seriesAsked.length = 0;
        await toggle.click();
        await expect.poll(() => netAsked()).toContain('net.ifb0.rx_bps');
        await expect.poll(() => page.locator('[data-action="toggle-virtual-ifaces"]').textContent()).toMatch(/hide virtual interfaces/i);
        await page.locator('[data-action="toggle-virtual-ifaces"]').click();
        await expect.poll(() => page.locator('[data-action="toggle-virtual-ifaces"]').textContent()).toMatch(/show 2 virtual interfaces/i);

        // Tables wider than a phone say so.
        const procs = page.locator('[data-panel="processes"]');
        await expect.poll(() => procs.getAttribute('data-rows')).toBe('3');
        const procBox = procs.locator('.scroll-box');
        expect(await procBox.count()).toBe(1);
        const fsBox = page.locator('.fs-section .scroll-box');
        expect(await fsBox.count()).toBe(1);
        if (vpName === 'phone') {
          await procBox.scrollIntoViewIfNeeded();
          await expect.poll(() => procBox.getAttribute('data-overflow')).toBe('true');
          expect(await procBox.locator('.scroll-hint').isVisible()).toBe(true);
          await page.waitForTimeout(200);
          await page.screenshot({ path: join(ARTIFACTS, 'first-hour-device-vm-procs-phone.png') });
          await procBox.locator('.table-wrap').evaluate((el) => (el.scrollLeft = el.scrollWidth));
          await expect.poll(() => procBox.getAttribute('data-at')).toBe('end');
        } else {
          await expect.poll(() => procBox.getAttribute('data-overflow')).toBe('false');
          expect(await procBox.locator('.scroll-hint').isVisible()).toBe(false);
        }
        await noHorizontalOverflow(page);
      } finally {
        await context.close();
      }
    }

    // A board with a GPU, temperatures and power monitors: none of those is called absent.
    const { context, page } = await newPage(DESKTOP);
    try {
      await go(page, `#/device/${NANO_ID}`, 'device');
      await page.locator('canvas[data-chart="gpu-util"]').waitFor({ state: 'attached' });
      await expect.poll(() => page.locator('[data-absent]').evaluateAll((els) => els.map((e) => e.getAttribute('data-absent')))).toEqual(['fan']);
      expect(await page.locator('[data-action="toggle-virtual-ifaces"]').count()).toBe(0);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('fleet cards show load, disk, network, temperature and since when the hub knows the device; offline ones look stale', async () => {
    for (const [vpName, viewport] of VIEWPORTS) {
      const { context, page } = await newPage(viewport);
      try {
        await go(page, '#/', 'fleet');
        const card = (id: string) => page.locator(`a.device-card[data-device-id="${id}"]`);
        const field = (id: string, f: string) => card(id).locator(`[data-field="${f}"]`);
        await card(VM_ID).waitFor({ state: 'visible' });
        await expect.poll(() => field(VM_ID, 'load').textContent()).toBe('0.42');
        expect(await field(VM_ID, 'disk').textContent()).toBe('65 % · 31.2 GiB / 48.0 GiB');
        // The virtual interfaces add nothing; ens3 and docker0 are summed.
        expect(await field(VM_ID, 'net').textContent()).toBe('↓ 1.25 MB/s ↑ 65.0 kB/s');
        expect(await field(VM_ID, 'hottest').textContent()).toBe('no sensors');
        expect(await field(VM_ID, 'first-seen').textContent()).toMatch(/^\d+ s ago$/);
        expect(await card(VM_ID).locator('[data-stat="first-seen"] dt').textContent()).toBe('First seen');
        expect(await card(VM_ID).locator('[data-stat="first-seen"]').getAttribute('title')).toMatch(/no uptime/);

        await expect.poll(() => field(NANO_ID, 'hottest').textContent()).toBe('62.0 °C tj');
        expect(await field(NANO_ID, 'disk').textContent()).toBe('98 % · 58.0 GiB / 59.0 GiB');
        expect(await card(NANO_ID).locator('[data-stat="disk"] .bar-fill').getAttribute('class')).toContain('is-high');
        expect(await field(NANO_ID, 'net').textContent()).toBe('↓ 310 kB/s ↑ 4.40 MB/s');

        // Offline: dimmed, "last seen … ago", values marked as the last ones.
        const old = card(OLD_ID);
        await expect.poll(() => old.getAttribute('data-online')).toBe('false');
        expect(await old.getAttribute('data-stale')).toBe('true');
        expect(await field(OLD_ID, 'last-seen').textContent()).toMatch(/^last seen \d+ s ago · values from then$/);
        expect(await field(OLD_ID, 'load').textContent()).toBe('1.25');
        // The opacity it is drawn with: its own times its ancestors'.
        const opacity = (sel: string) => old.locator(sel).evaluate(DRAWN_OPACITY);
        expect(await opacity('.card-stats')).toBeLessThanOrEqual(0.6);
        expect(await opacity('[data-field="cpu"]')).toBeLessThanOrEqual(0.6);
        expect(await opacity('[data-field="last-seen"]')).toBeGreaterThanOrEqual(0.95);
        // Online cards are not dimmed.
        expect(await card(VM_ID).locator('.card-stats').evaluate(DRAWN_OPACITY)).toBe(1);
        expect(await card(VM_ID).getAttribute('data-stale')).toBe('false');
        await noHorizontalOverflow(page);
        await page.screenshot({ path: join(ARTIFACTS, `first-hour-fleet-${vpName}.png`), fullPage: true });
      } finally {
        await context.close();
      }
    }
  }, 120_000);

  it('ran without page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
