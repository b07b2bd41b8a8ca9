// RAPL collector against powercap trees written here. No capture of a real powercap tree is in
// the fixture set; the layout (intel-rapl:N/{name,energy_uj,max_energy_range_uj}, subzones
// intel-rapl:N:M nested in their package and linked from /sys/class/powercap, the
// intel-rapl-mmio duplicate) is the kernel's, and max_energy_range_uj 262143328850 is the value
// Intel client CPUs report. Energy values are chosen so the expected watts are round.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRaplCollector, listRaplZones } from '../../agent/collectors/rapl.js';
import { contextFor, detectOrFail, FakeClock, sample, scenarioTree, type Tree } from './harness.js';

const RANGE = 262_143_328_850;

let tree: Tree | undefined;
afterEach(() => tree?.remove());

function zone(t: Tree, path: string, name: string, energyUj: number, range = RANGE): void {
  t.write(`sys/class/powercap/${path}/name`, `${name}\n`);
  t.write(`sys/class/powercap/${path}/energy_uj`, `${energyUj}\n`);
  t.write(`sys/class/powercap/${path}/max_energy_range_uj`, `${range}\n`);
}

function energy(t: Tree, path: string, energyUj: number): void {
  t.write(`sys/class/powercap/${path}/energy_uj`, `${energyUj}\n`);
}

/** A two-socket server: packages with core and dram subzones nested inside, plus the MMIO duplicate. */
function twoSockets(): Tree {
  const t = scenarioTree();
  t.write('sys/class/powercap/intel-rapl/enabled', '1\n');
  zone(t, 'intel-rapl:0', 'package-0', 1_000_000);
  zone(t, 'intel-rapl:0/intel-rapl:0:0', 'core', 2_000_000);
  zone(t, 'intel-rapl:0/intel-rapl:0:1', 'dram', 3_000_000);
  zone(t, 'intel-rapl:1', 'package-1', 4_000_000);
  zone(t, 'intel-rapl:1/intel-rapl:1:0', 'core', 5_000_000);
  zone(t, 'intel-rapl:1/intel-rapl:1:1', 'dram', 6_000_000);
  zone(t, 'intel-rapl-mmio:0', 'package-0', 1_000_000);
  return t;
}

/** A log that keeps every record, to check what detect said and at which level. */
function capturingLog(): { log: pino.Logger; records: Array<{ level: number; msg: string }> } {
  const records: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void records.push(JSON.parse(line) as { level: number; msg: string }) });
  return { log, records };
}
const INFO = 30;

describe('RAPL collector', () => {
  it('reports watts per domain from two ticks: packages numbered, package 1’s subzones suffixed _1, the MMIO duplicate skipped', async () => {
    tree = twoSockets();
    const clock = new FakeClock();
    const rapl = await detectOrFail(createRaplCollector({ clock: clock.now }), tree.ctx);
    expect(await sample(rapl)).toEqual({});
    clock.advance(1000);
    energy(tree, 'intel-rapl:0', 1_000_000 + 65_000_000);
    energy(tree, 'intel-rapl:0/intel-rapl:0:0', 2_000_000 + 40_000_000);
    energy(tree, 'intel-rapl:0/intel-rapl:0:1', 3_000_000 + 7_500_000);
    energy(tree, 'intel-rapl:1', 4_000_000 + 50_000_000);
    energy(tree, 'intel-rapl:1/intel-rapl:1:0', 5_000_000 + 30_000_000);
    energy(tree, 'intel-rapl:1/intel-rapl:1:1', 6_000_000 + 5_000_000);
    expect(await sample(rapl)).toEqual({
      'power.rapl.package_0': 65,
      'power.rapl.core': 40,
      'power.rapl.dram': 7.5,
      'power.rapl.package_1': 50,
      'power.rapl.core_1': 30,
      'power.rapl.dram_1': 5,
    });
  });

  it('names a laptop’s psys top-level zone psys, not a package', async () => {
    tree = scenarioTree();
    zone(tree, 'intel-rapl:0', 'package-0', 0);
    zone(tree, 'intel-rapl:0/intel-rapl:0:0', 'core', 0);
    zone(tree, 'intel-rapl:0/intel-rapl:0:1', 'uncore', 0);
    zone(tree, 'intel-rapl:1', 'psys', 0);
    const clock = new FakeClock();
    const rapl = await detectOrFail(createRaplCollector({ clock: clock.now }), tree.ctx);
    await sample(rapl);
    clock.advance(500);
    energy(tree, 'intel-rapl:0', 5_000_000);
    energy(tree, 'intel-rapl:0/intel-rapl:0:0', 3_000_000);
    energy(tree, 'intel-rapl:0/intel-rapl:0:1', 250_000);
    energy(tree, 'intel-rapl:1', 9_000_000);
    expect(await sample(rapl)).toEqual({ 'power.rapl.package_0': 10, 'power.rapl.core': 6, 'power.rapl.uncore': 0.5, 'power.rapl.psys': 18 });
  });

  it('lists a subzone linked from the class directory and nested in its package once', () => {
    tree = twoSockets();
    tree.write('sys/class/powercap/intel-rapl:0:0/name', 'core\n');
    tree.write('sys/class/powercap/intel-rapl:0:0/energy_uj', '2000000\n');
    expect(listRaplZones(tree.ctx.sysRoot).map((z) => `${z.id} ${z.name}`)).toEqual([
      '0 package-0',
      '0:0 core',
      '0:1 dram',
      '1 package-1',
      '1:0 core',
      '1:1 dram',
    ]);
  });

  it('unwraps energy_uj past max_energy_range_uj', async () => {
    tree = scenarioTree();
    zone(tree, 'intel-rapl:0', 'package-0', RANGE - 328_850);
    const clock = new FakeClock();
    const rapl = await detectOrFail(createRaplCollector({ clock: clock.now }), tree.ctx);
    await sample(rapl);
    clock.advance(2000);
    // 328 850 µJ up to the wrap, then 79 671 150 after it: 80 J in 2 s.
    energy(tree, 'intel-rapl:0', 79_671_150);
    expect(await sample(rapl)).toEqual({ 'power.rapl.package_0': 40 });
    clock.advance(1000);
    energy(tree, 'intel-rapl:0', 79_671_150 + 12_000_000);
    expect(await sample(rapl)).toEqual({ 'power.rapl.package_0': 12 });
  });

  it('skips an interval whose drop is a reset, not a wrap, then carries on', async () => {
    tree = scenarioTree();
    zone(tree, 'intel-rapl:0', 'package-0', 200_000_000_000);
    const clock = new FakeClock();
    const rapl = await detectOrFail(createRaplCollector({ clock: clock.now }), tree.ctx);
    await sample(rapl);
    // Read as a wrap this would be 62 kW; it is the counter starting over (e.g. after resume).
    clock.advance(1000);
    energy(tree, 'intel-rapl:0', 10_000_000);
    expect(await sample(rapl)).toEqual({});
    clock.advance(1000);
    energy(tree, 'intel-rapl:0', 25_000_000);
    expect(await sample(rapl)).toEqual({ 'power.rapl.package_0': 15 });
    // A drop past half the range is no wrap at all.
    clock.advance(1000);
    energy(tree, 'intel-rapl:0', 5_000_000);
    expect(await sample(rapl)).toEqual({});
  });

  it('restarts the interval after a failed read instead of spreading two intervals’ energy over one', async () => {
    tree = scenarioTree();
    zone(tree, 'intel-rapl:0', 'package-0', 0);
    const clock = new FakeClock();
    const rapl = await detectOrFail(createRaplCollector({ clock: clock.now }), tree.ctx);
    await sample(rapl);
    const file = join(tree.root, 'sys/class/powercap/intel-rapl:0/energy_uj');
    rmSync(file);
    clock.advance(1000);
    expect(await sample(rapl)).toEqual({});
    energy(tree, 'intel-rapl:0', 30_000_000);
    clock.advance(1000);
    expect(await sample(rapl)).toEqual({});
    energy(tree, 'intel-rapl:0', 50_000_000);
    clock.advance(1000);
    expect(await sample(rapl)).toEqual({ 'power.rapl.package_0': 20 });
  });

  it('returns null and says once at info how to grant access when energy_uj is root-only (EACCES, injected)', async () => {
    // The agent's tests may run as root, where chmod cannot deny a read: the read function
    // detect uses is replaced by one that fails as the kernel does for a non-root reader.
    tree = twoSockets();
    const { log, records } = capturingLog();
    const readFile = (path: string): string => {
      throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' });
    };
    expect(await createRaplCollector({ readFile }).detect(contextFor(tree.root, { log }))).toBeNull();
    const info = records.filter((r) => r.level === INFO);
    expect(info).toHaveLength(1);
    expect(info[0]!.msg).toMatch(/root only since Linux 5\.10/);
    expect(info[0]!.msg).toMatch(/run the agent as root, or .* udev rule/);
    expect((info[0] as unknown as { denied: string[] }).denied).toHaveLength(6);
  });

  it.skipIf(process.getuid?.() === 0)('returns null with the same hint when energy_uj really is mode 000 (non-root only)', async () => {
    tree = scenarioTree();
    zone(tree, 'intel-rapl:0', 'package-0', 1);
    chmodSync(join(tree.root, 'sys/class/powercap/intel-rapl:0/energy_uj'), 0o000);
    const { log, records } = capturingLog();
    expect(await createRaplCollector().detect(contextFor(tree.root, { log }))).toBeNull();
    expect(records.filter((r) => r.level === INFO)).toHaveLength(1);
  });

  it('skips a zone whose energy_uj cannot be read for another reason (a directory: EISDIR), without the permission hint', async () => {
    // Also the root-proof stand-in for an unreadable file: root can read a mode-000 file but
    // not a directory.
    tree = scenarioTree();
    zone(tree, 'intel-rapl:0', 'package-0', 1);
    const file = join(tree.root, 'sys/class/powercap/intel-rapl:0/energy_uj');
    rmSync(file);
    mkdirSync(file);
    const { log, records } = capturingLog();
    expect(await createRaplCollector().detect(contextFor(tree.root, { log }))).toBeNull();
    expect(records.filter((r) => r.level >= INFO)).toEqual([]);
  });

  it('returns null without /sys/class/powercap', async () => {
    tree = scenarioTree('x86-vm');
    expect(await createRaplCollector().detect(tree.ctx)).toBeNull();
  });
});
