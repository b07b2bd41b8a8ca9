// The /proc parsers on their own (the collectors' tests cover them through real files): the
// layouts and edge cases that a future `edgewatch parse` would also meet.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDiskstats } from '../../agent/parsers/proc/diskstats.js';
import { parseLoadavg } from '../../agent/parsers/proc/loadavg.js';
import { parseMeminfo } from '../../agent/parsers/proc/meminfo.js';
import { parseMounts } from '../../agent/parsers/proc/mounts.js';
import { parseNetDev } from '../../agent/parsers/proc/net-dev.js';
import { parseProcStat } from '../../agent/parsers/proc/stat.js';
import { SYSROOT_FIXTURES } from './harness.js';

const real = (rel: string) => readFileSync(join(SYSROOT_FIXTURES, 'x86-vm/proc', rel), 'utf8');

describe('/proc parsers', () => {
  it('stat: aggregate and per-core lines, nothing from intr/ctxt', () => {
    const stat = parseProcStat(real('stat'));
    expect(stat.all).toEqual({ user: 15529, nice: 0, system: 3373, idle: 99952, iowait: 735, irq: 0, softirq: 93, steal: 126, guest: 0, guestNice: 0 });
    expect([...stat.cores.keys()]).toEqual([0, 1]);
  });

  it('diskstats: all 20 columns of a 6.x kernel, and the 14-column layout of older ones', () => {
    const vda = parseDiskstats(real('diskstats')).find((d) => d.name === 'vda');
    expect(vda).toMatchObject({ major: 254, minor: 0, sectorsRead: 2454418, sectorsWritten: 2290352, ioTicksMs: 9756, flushesCompleted: 3072, flushMs: 140 });
    // 2.6–4.17: 11 counters; before 2.6.25 partitions had only 4 and are skipped.
    const old = parseDiskstats('   8       0 sda 4510 1211 287380 13016 2208 3311 44296 19960 0 11376 32972\n   8       1 sda1 40 200 10 80\n');
    expect(old).toEqual([expect.objectContaining({ name: 'sda', sectorsRead: 287380, ioTicksMs: 11376, weightedIoMs: 32972 })]);
    expect(old[0]).not.toHaveProperty('discardsCompleted');
    // 4.18–5.4: discard counters, no flush counters.
    const v4 = parseDiskstats('   8       0 sda 4510 1211 287380 13016 2208 3311 44296 19960 0 11376 32972 7 0 64 3\n');
    expect(v4).toEqual([expect.objectContaining({ name: 'sda', ioTicksMs: 11376, discardsCompleted: 7, sectorsDiscarded: 64 })]);
    expect(v4[0]).not.toHaveProperty('flushesCompleted');
  });

  it('net/dev: header skipped, every interface kept', () => {
    expect(parseNetDev(real('net/dev')).map((i) => [i.name, i.rxBytes, i.txPackets])).toEqual([
      ['lo', 3193, 29],
      ['ifb0', 0, 0],
      ['ifb1', 0, 0],
      ['eth0', 395979798, 7129],
    ]);
  });

  it('meminfo: kB as bytes, counts as counts', () => {
    const m = parseMeminfo(real('meminfo'));
    expect(m.get('MemTotal')).toBe(24_684_096 * 1024);
    expect(m.get('Active(anon)')).toBe(1528 * 1024);
    expect(m.get('HugePages_Total')).toBe(0);
  });

  it('loadavg: with and without the process fields, garbage refused', () => {
    expect(parseLoadavg(real('loadavg'))).toEqual({ load1: 0.25, load5: 0.31, load15: 0.19, running: 1, total: 85, lastPid: 8019 });
    expect(parseLoadavg('1.00 0.50 0.25\n')).toEqual({ load1: 1, load5: 0.5, load15: 0.25 });
    expect(parseLoadavg('1.00 0.50\n')).toBeUndefined();
  });

  it('mounts: octal escapes decoded in every field', () => {
    expect(parseMounts('/dev/sdb1 /media/pi/My\\040Disk\\011x ext4 rw 0 0\n/dev/sdc1 /mnt/a\\134b vfat rw 0 0\n')).toEqual([
      { source: '/dev/sdb1', mountPoint: '/media/pi/My Disk\tx', fsType: 'ext4', options: 'rw' },
      { source: '/dev/sdc1', mountPoint: '/mnt/a\\b', fsType: 'vfat', options: 'rw' },
    ]);
  });
});
