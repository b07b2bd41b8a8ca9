import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCollector } from '../../agent/collectors/cpu.js';
import { contextFor, detectOrFail, pick, sample, scenarioTree, SYSROOT_FIXTURES, type Tree } from './harness.js';

// /proc/stat of the x86 VM with its cpu lines replaced; everything after them stays real.
const REAL_STAT = readFileSync(join(SYSROOT_FIXTURES, 'x86-vm/proc/stat'), 'utf8');
const REST = REAL_STAT.slice(REAL_STAT.indexOf('intr '));
function statWith(lines: Record<string, readonly number[]>): string {
  return Object.entries(lines).map(([cpu, v]) => `${cpu.padEnd(cpu === 'cpu' ? 4 : 3)} ${v.join(' ')}\n`).join('') + REST;
}
//                         user nice system idle  iowait irq softirq steal guest guest_nice
const BASE = {
  cpu: [1000, 0, 500, 8000, 100, 0, 50, 0, 0, 0],
  cpu0: [600, 0, 250, 4000, 50, 0, 25, 0, 0, 0],
  cpu1: [400, 0, 250, 4000, 50, 0, 25, 0, 0, 0],
};

let tree: Tree | undefined;
afterEach(() => tree?.remove());

describe('cpu collector', () => {
  it('computes utilisation and iowait from two real /proc/stat readings, nothing on the first', async () => {
    tree = scenarioTree('x86-vm');
    const cpu = await detectOrFail(cpuCollector, tree.ctx);
    expect(await sample(cpu)).toEqual({});
    tree.overlay('x86-vm-tick2');
    const out = await sample(cpu);
    // Worked by hand from the fixture lines (guest columns are 0 and never added):
    //   all:  total 119808 → 121000 (Δ1192); idle+iowait 100687 → 101212 (Δ525); iowait Δ117
    //   cpu0: total  59900 →  60497 (Δ597);  idle+iowait  55157 →  55473 (Δ316)
    //   cpu1: total  59904 →  60500 (Δ596);  idle+iowait  45529 →  45739 (Δ210)
    expect(Object.keys(out).sort()).toEqual(['cpu.core.0.util', 'cpu.core.1.util', 'cpu.iowait', 'cpu.util']);
    expect(out['cpu.util']).toBeCloseTo((667 / 1192) * 100, 10);
    expect(out['cpu.iowait']).toBeCloseTo((117 / 1192) * 100, 10);
    expect(out['cpu.core.0.util']).toBeCloseTo((281 / 597) * 100, 10);
    expect(out['cpu.core.1.util']).toBeCloseTo((386 / 596) * 100, 10);
  });

  it('counts guest time once (it is already inside user)', async () => {
    tree = scenarioTree('x86-vm');
    tree.write('proc/stat', statWith({ cpu: [1000, 0, 0, 1000, 0, 0, 0, 0, 500, 0] }));
    const cpu = await detectOrFail(cpuCollector, tree.ctx);
    await sample(cpu);
    // +100 user of which 100 guest, +300 idle: 25 % busy, not 40 %.
    tree.write('proc/stat', statWith({ cpu: [1100, 0, 0, 1300, 0, 0, 0, 0, 600, 0] }));
    expect((await sample(cpu))['cpu.util']).toBeCloseTo(25, 10);
  });

  it('reads kernels that print fewer columns (no steal/guest)', async () => {
    tree = scenarioTree('x86-vm');
    tree.write('proc/stat', statWith({ cpu: [100, 0, 100, 800, 0], cpu0: [100, 0, 100, 800, 0] }));
    const cpu = await detectOrFail(cpuCollector, tree.ctx);
    await sample(cpu);
    tree.write('proc/stat', statWith({ cpu: [150, 0, 150, 850, 50], cpu0: [150, 0, 150, 850, 50] }));
    expect(await sample(cpu)).toEqual({ 'cpu.util': 50, 'cpu.iowait': 25, 'cpu.core.0.util': 50 });
  });

  it('leaves out only iowait when it steps back while idle+iowait goes on (NO_HZ accounting)', async () => {
    tree = scenarioTree('x86-vm');
    tree.write('proc/stat', statWith(BASE));
    const cpu = await detectOrFail(cpuCollector, tree.ctx);
    await sample(cpu);
    // iowait 100 → 90 while idle 8000 → 8110: the idle period moved from iowait to idle.
    tree.write('proc/stat', statWith({ ...BASE, cpu: [1100, 0, 500, 8110, 90, 0, 50, 0, 0, 0] }));
    const out = await sample(cpu);
    expect(out['cpu.util']).toBeCloseTo((100 / 200) * 100, 10);
    expect(out).not.toHaveProperty('cpu.iowait');
  });

  it('skips a core whose counters went backwards, and a core that was offline, for one tick', async () => {
    tree = scenarioTree('x86-vm');
    tree.write('proc/stat', statWith(BASE));
    const cpu = await detectOrFail(cpuCollector, tree.ctx);
    await sample(cpu);
    // cpu0 restarted its counters; cpu1 went offline (its line disappears).
    tree.write('proc/stat', statWith({ cpu: [1100, 0, 500, 8100, 100, 0, 50, 0, 0, 0], cpu0: [10, 0, 5, 40, 0, 0, 0, 0, 0, 0] }));
    const t2 = await sample(cpu);
    expect(t2).toEqual({ 'cpu.util': 50, 'cpu.iowait': 0 });
    // cpu1 back online: no baseline from the previous tick, so still nothing for it.
    tree.write('proc/stat', statWith({ cpu: [1200, 0, 500, 8200, 100, 0, 50, 0, 0, 0], cpu0: [60, 0, 5, 90, 0, 0, 0, 0, 0, 0], cpu1: [500, 0, 250, 4100, 50, 0, 25, 0, 0, 0] }));
    const t3 = await sample(cpu);
    expect(pick(t3, 'cpu.core.')).toEqual({ 'cpu.core.0.util': 50 });
    tree.write('proc/stat', statWith({ cpu: [1300, 0, 500, 8300, 100, 0, 50, 0, 0, 0], cpu0: [70, 0, 5, 180, 0, 0, 0, 0, 0, 0], cpu1: [575, 0, 250, 4125, 50, 0, 25, 0, 0, 0] }));
    expect(pick(await sample(cpu), 'cpu.core.')).toEqual({ 'cpu.core.0.util': 10, 'cpu.core.1.util': 75 });
  });

  it('never reports 100 % or a negative value when nothing moved', async () => {
    tree = scenarioTree('x86-vm');
    tree.write('proc/stat', statWith(BASE));
    const cpu = await detectOrFail(cpuCollector, tree.ctx);
    await sample(cpu);
    expect(await sample(cpu)).toEqual({});
  });

  it('survives an unreadable /proc/stat and garbage, and restarts its baseline after each', async () => {
    tree = scenarioTree('x86-vm');
    tree.write('proc/stat', statWith(BASE));
    const cpu = await detectOrFail(cpuCollector, tree.ctx);
    await sample(cpu);
    rmSync(join(tree.root, 'proc/stat'));
    expect(await sample(cpu)).toEqual({});
    // Two intervals after the baseline: no value rather than one spread over both.
    const later = { cpu: [1100, 0, 500, 8100, 100, 0, 50, 0, 0, 0], cpu0: [700, 0, 250, 4100, 50, 0, 25, 0, 0, 0], cpu1: [400, 0, 250, 4200, 50, 0, 25, 0, 0, 0] };
    tree.write('proc/stat', statWith(later));
    expect(await sample(cpu)).toEqual({});
    tree.write('proc/stat', 'cpu  this is not a number\n\0\0garbage');
    expect(await sample(cpu)).toEqual({});
    tree.write('proc/stat', statWith(later));
    expect(await sample(cpu)).toEqual({});
    tree.write('proc/stat', statWith({ ...later, cpu: [1130, 0, 500, 8170, 100, 0, 50, 0, 0, 0], cpu0: [720, 0, 250, 4180, 50, 0, 25, 0, 0, 0] }));
    expect(await sample(cpu)).toEqual({ 'cpu.util': 30, 'cpu.iowait': 0, 'cpu.core.0.util': 20 });
  });

  it('returns null without /proc/stat or without a cpu line', async () => {
    tree = scenarioTree('jetson-nano');
    expect(await cpuCollector.detect(tree.ctx)).toBeNull();
    tree.write('proc/stat', 'intr 0 0 0\nctxt 1\n');
    expect(await cpuCollector.detect(tree.ctx)).toBeNull();
  });

  describe('frequency (cpufreq values of a Raspberry Pi 3B+ at 1.4 GHz)', () => {
    it('reports every core in MHz and their mean, from the first tick', async () => {
      tree = scenarioTree('x86-vm', 'raspberry-pi-3');
      const cpu = await detectOrFail(cpuCollector, tree.ctx);
      expect(await sample(cpu)).toEqual({
        'cpu.core.0.freq': 1400,
        'cpu.core.1.freq': 1400,
        'cpu.core.2.freq': 1400,
        'cpu.core.3.freq': 1400,
        'cpu.freq': 1400,
      });
    });

    it('averages what it can read and leaves out offline cores and `<unknown>`', async () => {
      tree = scenarioTree('x86-vm', 'raspberry-pi-3');
      const cpu = await detectOrFail(cpuCollector, tree.ctx);
      const freq = (n: number) => `sys/devices/system/cpu/cpu${n}/cpufreq/scaling_cur_freq`;
      tree.write(freq(3), '600000\n'); // the Pi's idle clock
      expect(pick(await sample(cpu), 'cpu.freq')).toEqual({ 'cpu.freq': (3 * 1400 + 600) / 4 });
      tree.write(freq(2), '<unknown>\n');
      rmSync(join(tree.root, 'sys/devices/system/cpu/cpu1/cpufreq'), { recursive: true });
      const out = await sample(cpu);
      expect(pick(out, 'cpu.')).toEqual({ 'cpu.core.0.freq': 1400, 'cpu.core.3.freq': 600, 'cpu.freq': 1000 });
    });

    it('reads no cpufreq files when no core has cpufreq (the x86 VM)', async () => {
      tree = scenarioTree('x86-vm');
      const cpu = await detectOrFail(cpuCollector, tree.ctx);
      // cpufreq appearing later is not looked for: its absence at start means the platform has none.
      mkdirSync(join(tree.root, 'sys/devices/system/cpu/cpu0/cpufreq'), { recursive: true });
      tree.write('sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq', '1400000\n');
      expect(await sample(cpu)).toEqual({});
    });
  });

  it('detects with the real tree layout even when sysRoot does not exist', async () => {
    tree = scenarioTree('x86-vm');
    const cpu = await detectOrFail(cpuCollector, contextFor(tree.root, { sysRoot: join(tree.root, 'nope') }));
    expect(await sample(cpu)).toEqual({});
  });
});
