import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCollector } from '../../agent/collectors/load.js';
import { memoryCollector } from '../../agent/collectors/memory.js';
import { detectOrFail, sample, scenarioTree, SYSROOT_FIXTURES, type Tree } from './harness.js';

const KIB = 1024;
const REAL_MEMINFO = readFileSync(join(SYSROOT_FIXTURES, 'x86-vm/proc/meminfo'), 'utf8');

let tree: Tree | undefined;
afterEach(() => tree?.remove());

describe('memory collector', () => {
  it('reports the real meminfo in bytes, used = MemTotal − MemAvailable', async () => {
    tree = scenarioTree('x86-vm');
    const mem = await detectOrFail(memoryCollector, tree.ctx);
    const total = 24_684_096 * KIB;
    const available = 24_273_840 * KIB;
    expect(await sample(mem)).toEqual({
      'mem.total': total,
      'mem.available': available,
      'mem.used': total - available,
      'mem.util': ((24_684_096 - 24_273_840) / 24_684_096) * 100,
      'mem.cached': 730_936 * KIB,
      // The VM has no swap: 0 is what the kernel says, so it is reported.
      'swap.total': 0,
      'swap.used': 0,
    });
  });

  it('reports swap in use', async () => {
    tree = scenarioTree('x86-vm');
    tree.write('proc/meminfo', REAL_MEMINFO.replace(/SwapTotal:.*\nSwapFree:.*\n/, 'SwapTotal:       102396 kB\nSwapFree:         81916 kB\n'));
    const mem = await detectOrFail(memoryCollector, tree.ctx);
    const out = await sample(mem);
    expect(out['swap.total']).toBe(102_396 * KIB);
    expect(out['swap.used']).toBe(20_480 * KIB);
  });

  it('estimates MemAvailable on kernels before 3.14 from free + buffers + cache + reclaimable slab − shmem', async () => {
    tree = scenarioTree('x86-vm');
    tree.write('proc/meminfo', REAL_MEMINFO.replace(/MemAvailable:.*\n/, ''));
    const mem = await detectOrFail(memoryCollector, tree.ctx);
    const out = await sample(mem);
    // MemFree 23713348 + Buffers 5636 + Cached 730936 + SReclaimable 82620 − Shmem 8788
    const available = (23_713_348 + 5_636 + 730_936 + 82_620 - 8_788) * KIB;
    expect(out['mem.available']).toBe(available);
    expect(out['mem.used']).toBe(24_684_096 * KIB - available);
  });

  it('never reports negative used memory, and leaves out what the file does not have', async () => {
    tree = scenarioTree('x86-vm');
    tree.write('proc/meminfo', 'MemTotal:        1000 kB\nMemFree:          10 kB\nMemAvailable:    1200 kB\n');
    const mem = await detectOrFail(memoryCollector, tree.ctx);
    expect(await sample(mem)).toEqual({ 'mem.total': 1000 * KIB, 'mem.available': 1000 * KIB, 'mem.used': 0, 'mem.util': 0 });
  });

  it('survives garbage and a vanished file', async () => {
    tree = scenarioTree('x86-vm');
    const mem = await detectOrFail(memoryCollector, tree.ctx);
    tree.write('proc/meminfo', 'MemTotal: lots\n\u0000');
    expect(await sample(mem)).toEqual({});
    rmSync(join(tree.root, 'proc/meminfo'));
    expect(await sample(mem)).toEqual({});
  });

  it('returns null without meminfo or without MemTotal', async () => {
    tree = scenarioTree('jetson-nano');
    expect(await memoryCollector.detect(tree.ctx)).toBeNull();
    tree.write('proc/meminfo', 'MemFree: 10 kB\n');
    expect(await memoryCollector.detect(tree.ctx)).toBeNull();
  });
});

describe('load collector', () => {
  it('reports the real loadavg', async () => {
    tree = scenarioTree('x86-vm');
    const load = await detectOrFail(loadCollector, tree.ctx);
    expect(await sample(load)).toEqual({ 'load.1': 0.25, 'load.5': 0.31, 'load.15': 0.19 });
  });

  it('leaves everything out for garbage or a vanished file, and returns null when absent', async () => {
    tree = scenarioTree('x86-vm');
    const load = await detectOrFail(loadCollector, tree.ctx);
    tree.write('proc/loadavg', 'N/A N/A N/A\n');
    expect(await sample(load)).toEqual({});
    rmSync(join(tree.root, 'proc/loadavg'));
    expect(await sample(load)).toEqual({});
    expect(await loadCollector.detect(tree.ctx)).toBeNull();
  });
});
