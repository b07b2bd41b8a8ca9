import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiskIoCollector } from '../../agent/collectors/disk-io.js';
import { detectOrFail, FakeClock, sample, scenarioTree, type Tree } from './harness.js';

// A diskstats line in the 20-column layout of the x86 VM's kernel (6.x).
function line(name: string, c: { reads: number; sectorsRead: number; writes: number; sectorsWritten: number; ioTicks: number }, major = 8, minor = 0): string {
  return `${String(major).padStart(4)} ${String(minor).padStart(7)} ${name} ${c.reads} 0 ${c.sectorsRead} 100 ${c.writes} 0 ${c.sectorsWritten} 100 0 ${c.ioTicks} 200 0 0 0 0 10 5`;
}
const BASE = { reads: 1000, sectorsRead: 50_000, writes: 500, sectorsWritten: 20_000, ioTicks: 3000 };

let tree: Tree | undefined;
afterEach(() => tree?.remove());

function addPhysicalDisk(t: Tree, name: string): void {
  t.write(`sys/block/${name}/device/model`, 'USB Flash Disk\n');
}

describe('disk-io collector', () => {
  it('turns two real diskstats readings into bytes/s and %util for vda only', async () => {
    tree = scenarioTree('x86-vm');
    const clock = new FakeClock();
    const disks = await detectOrFail(createDiskIoCollector(clock.now), tree.ctx);
    expect(await sample(disks)).toEqual({});
    tree.overlay('x86-vm-tick2');
    clock.advance(4000);
    // vda: sectors read 2454418 → 3573666, written 2290352 → 2332016, io_ticks 9756 → 11908 ms.
    // loop0-7 and zram0 are in the same file and must not appear.
    expect(await sample(disks)).toEqual({
      'disk.vda.read_bps': (1_119_248 * 512) / 4,
      'disk.vda.write_bps': (41_664 * 512) / 4,
      'disk.vda.util': (2152 / 4000) * 100,
    });
  });

  it('uses the real time between reads, not the nominal interval', async () => {
    tree = scenarioTree('x86-vm');
    tree.write('proc/diskstats', line('vda', BASE, 254));
    const clock = new FakeClock();
    const disks = await detectOrFail(createDiskIoCollector(clock.now), tree.ctx);
    await sample(disks);
    tree.write('proc/diskstats', line('vda', { ...BASE, reads: 1010, sectorsRead: 50_100, ioTicks: 3100 }, 254));
    clock.advance(500);
    expect(await sample(disks)).toEqual({ 'disk.vda.read_bps': 102_400, 'disk.vda.write_bps': 0, 'disk.vda.util': 20 });
  });

  it('reports whole physical disks only: no partitions, eMMC boot areas, hidden NVMe paths or virtual devices', async () => {
    tree = scenarioTree('x86-vm');
    for (const d of ['sda', 'mmcblk0', 'mmcblk0boot0', 'mmcblk0rpmb', 'nvme0n1', 'nvme0c0n1']) addPhysicalDisk(tree, d);
    tree.write('sys/block/nvme0c0n1/hidden', '1\n');
    tree.write('sys/block/dm-0/dm/name', 'vg-root\n');
    const names = ['sda', 'sda1', 'mmcblk0', 'mmcblk0p1', 'mmcblk0boot0', 'mmcblk0rpmb', 'nvme0n1', 'nvme0n1p1', 'nvme0c0n1', 'dm-0', 'loop0', 'zram0'];
    const text = (grow: number) => names.map((n) => line(n, { ...BASE, reads: BASE.reads + grow, sectorsRead: BASE.sectorsRead + grow })).join('\n');
    tree.write('proc/diskstats', text(0));
    const clock = new FakeClock();
    const disks = await detectOrFail(createDiskIoCollector(clock.now), tree.ctx);
    await sample(disks);
    tree.write('proc/diskstats', text(2));
    clock.advance(1000);
    const devices = new Set(Object.keys(await sample(disks)).map((k) => k.split('.')[1]));
    expect([...devices].sort()).toEqual(['mmcblk0', 'nvme0n1', 'sda']);
  });

  it('unwraps 32-bit sector and io_ticks counters', async () => {
    tree = scenarioTree('x86-vm');
    tree.write('proc/diskstats', line('vda', { ...BASE, sectorsRead: 4_294_967_000, ioTicks: 4_294_967_000 }, 254));
    const clock = new FakeClock();
    const disks = await detectOrFail(createDiskIoCollector(clock.now), tree.ctx);
    await sample(disks);
    tree.write('proc/diskstats', line('vda', { ...BASE, reads: 1100, sectorsRead: 296, ioTicks: 200 }, 254));
    clock.advance(1000);
    // 4294967000 → 296 is +592 sectors; io_ticks 4294967000 → 200 is +496 ms.
    expect(await sample(disks)).toEqual({ 'disk.vda.read_bps': 592 * 512, 'disk.vda.write_bps': 0, 'disk.vda.util': 49.6 });
  });

  it('skips a re-plugged disk for one tick, then rates from the new counters', async () => {
    tree = scenarioTree('x86-vm');
    addPhysicalDisk(tree, 'sda');
    tree.write('proc/diskstats', line('sda', BASE));
    const clock = new FakeClock();
    const disks = await detectOrFail(createDiskIoCollector(clock.now), tree.ctx);
    await sample(disks);
    const replugged = { reads: 12, sectorsRead: 96, writes: 0, sectorsWritten: 0, ioTicks: 40 };
    tree.write('proc/diskstats', line('sda', replugged));
    clock.advance(1000);
    expect(await sample(disks)).toEqual({});
    tree.write('proc/diskstats', line('sda', { ...replugged, reads: 22, sectorsRead: 2144, ioTicks: 140 }));
    clock.advance(1000);
    expect(await sample(disks)).toEqual({ 'disk.sda.read_bps': 2048 * 512, 'disk.sda.write_bps': 0, 'disk.sda.util': 10 });
  });

  it('skips a sector counter that drops above 2^32 (a 64-bit counter cannot wrap)', async () => {
    tree = scenarioTree('x86-vm');
    tree.write('proc/diskstats', line('vda', { ...BASE, sectorsRead: 5_000_000_000 }, 254));
    const clock = new FakeClock();
    const disks = await detectOrFail(createDiskIoCollector(clock.now), tree.ctx);
    await sample(disks);
    tree.write('proc/diskstats', line('vda', { ...BASE, reads: 1001, sectorsRead: 1000, ioTicks: 3010 }, 254));
    clock.advance(1000);
    expect(await sample(disks)).toEqual({ 'disk.vda.write_bps': 0, 'disk.vda.util': 1 });
  });

  it('clamps io_ticks slightly ahead of the clock to 100 % and drops an impossible jump', async () => {
    tree = scenarioTree('x86-vm');
    tree.write('proc/diskstats', line('vda', BASE, 254));
    const clock = new FakeClock();
    const disks = await detectOrFail(createDiskIoCollector(clock.now), tree.ctx);
    await sample(disks);
    tree.write('proc/diskstats', line('vda', { ...BASE, ioTicks: 4030 }, 254));
    clock.advance(1000);
    expect((await sample(disks))['disk.vda.util']).toBe(100);
    tree.write('proc/diskstats', line('vda', { ...BASE, ioTicks: 9000 }, 254));
    clock.advance(1000);
    expect(await sample(disks)).not.toHaveProperty('disk.vda.util');
  });

  it('picks up a disk plugged in later, from its second tick', async () => {
    tree = scenarioTree('x86-vm');
    tree.write('proc/diskstats', line('vda', BASE, 254));
    const clock = new FakeClock();
    const disks = await detectOrFail(createDiskIoCollector(clock.now), tree.ctx);
    await sample(disks);
    addPhysicalDisk(tree, 'sdb');
    tree.write('proc/diskstats', [line('vda', BASE, 254), line('sdb', BASE, 8, 16)].join('\n'));
    clock.advance(1000);
    expect(Object.keys(await sample(disks))).not.toContain('disk.sdb.read_bps');
    tree.write('proc/diskstats', [line('vda', BASE, 254), line('sdb', { ...BASE, reads: 1001, sectorsRead: 50_008 }, 8, 16)].join('\n'));
    clock.advance(1000);
    expect((await sample(disks))['disk.sdb.read_bps']).toBe(4096);
  });

  it('forgets a disk that disappears, so its return is a fresh start', async () => {
    tree = scenarioTree('x86-vm');
    addPhysicalDisk(tree, 'sdb');
    tree.write('proc/diskstats', line('sdb', BASE));
    const clock = new FakeClock();
    const disks = await detectOrFail(createDiskIoCollector(clock.now), tree.ctx);
    await sample(disks);
    tree.write('proc/diskstats', '');
    clock.advance(1000);
    expect(await sample(disks)).toEqual({});
    // Back with higher counts than before (a different stick): still no rate on its first tick.
    tree.write('proc/diskstats', line('sdb', { ...BASE, reads: 9000, sectorsRead: 900_000 }));
    clock.advance(1000);
    expect(await sample(disks)).toEqual({});
  });

  it('survives garbage and a missing diskstats without emitting anything', async () => {
    tree = scenarioTree('x86-vm');
    const clock = new FakeClock();
    const disks = await detectOrFail(createDiskIoCollector(clock.now), tree.ctx);
    await sample(disks);
    tree.write('proc/diskstats', ' 254 0 vda x y z\n\u0000garbage\n');
    clock.advance(1000);
    expect(await sample(disks)).toEqual({});
    rmSync(join(tree.root, 'proc/diskstats'));
    clock.advance(1000);
    expect(await sample(disks)).toEqual({});
  });

  it('returns null without /proc/diskstats or /sys/block', async () => {
    tree = scenarioTree('jetson-nano');
    expect(await createDiskIoCollector().detect(tree.ctx)).toBeNull();
    tree.write('proc/diskstats', line('sda', BASE));
    expect(await createDiskIoCollector().detect(tree.ctx)).toBeNull();
    mkdirSync(join(tree.root, 'sys/block'));
    expect(await createDiskIoCollector().detect(tree.ctx)).not.toBeNull();
  });
});
