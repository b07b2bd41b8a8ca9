// Throughput and busy time of whole physical disks from /proc/diskstats (one read per tick).
// Which devices count is decided once per device name, from /sys/block, the first time the
// name shows up in diskstats; a disk plugged in later is therefore picked up on its first tick.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { metricSegment } from '../../shared/catalog.js';
import type { Logger } from '../../shared/log.js';
import { DISKSTATS_SECTOR_BYTES, parseDiskstats, type DiskStats } from '../parsers/proc/diskstats.js';
import type { Collector, CollectorFactory, MetricValues } from './collector.js';
import { counterDelta, monotonicMs, perSecond, TimedCounterFile, type MonotonicClock } from './counters.js';
import { readText } from './sysfs.js';

interface DiskState {
  readonly readMetric: string;
  readonly writeMetric: string;
  readonly utilMetric: string;
  prev: DiskStats | undefined;
}

interface Known {
  /** null: a name seen in diskstats that is not a whole physical disk. */
  readonly disk: DiskState | null;
  seen: number;
}

/** Virtual devices, and the eMMC hardware boot/RPMB areas that sit beside mmcblkN in /sys/block. */
const NOT_A_DISK = /^(loop|ram|zram|nbd)\d+$|^mmcblk\d+(boot\d+|rpmb)$/;

export function createDiskIoCollector(clock: MonotonicClock = monotonicMs): CollectorFactory {
  return {
    name: 'disk-io',
    async detect(ctx) {
      const path = join(ctx.procRoot, 'diskstats');
      const blockDir = join(ctx.sysRoot, 'block');
      if (readText(path) === undefined || !existsSync(blockDir)) return null;
      return new DiskIoCollector(path, blockDir, clock, ctx.log);
    },
  };
}

export const diskIoCollector = createDiskIoCollector();

/**
 * A whole physical disk has a `device` link in /sys/block/<dev> (loop, zram, ram, dm-*, md*
 * do not; partitions are not in /sys/block at all). NVMe multipath paths are marked hidden.
 */
export function isPhysicalDisk(blockDir: string, name: string): boolean {
  if (NOT_A_DISK.test(name)) return false;
  // diskstats writes `cciss/c0d0` where sysfs has `cciss!c0d0`.
  const dir = join(blockDir, name.replaceAll('/', '!'));
  if (!existsSync(join(dir, 'device'))) return false;
  return readText(join(dir, 'hidden'))?.trim() !== '1';
}

class DiskIoCollector implements Collector {
  readonly name = 'disk-io';
  private readonly known = new Map<string, Known>();
  private readonly file: TimedCounterFile;
  private tick = 0;

  constructor(
    path: string,
    private readonly blockDir: string,
    clock: MonotonicClock,
    private readonly log: Logger,
  ) {
    this.file = new TimedCounterFile(path, clock);
  }

  sample(_now: number, out: MetricValues): void {
    const read = this.file.read();
    if (read === undefined) {
      this.log.debug({ path: this.file.path }, 'cannot read diskstats; disk I/O left out this tick');
      return;
    }
    const { text, elapsedMs } = read;
    const tick = ++this.tick;
    for (const stats of parseDiskstats(text)) {
      let known = this.known.get(stats.name);
      if (!known) {
        known = { disk: isPhysicalDisk(this.blockDir, stats.name) ? newDiskState(stats.name) : null, seen: tick };
        this.known.set(stats.name, known);
        if (known.disk) this.log.debug({ disk: stats.name }, 'disk found');
      }
      known.seen = tick;
      const disk = known.disk;
      if (!disk) continue;
      if (disk.prev && elapsedMs > 0) this.emit(disk, disk.prev, stats, elapsedMs, out);
      disk.prev = stats;
    }
    // A device that vanished is forgotten, so one plugged in under its name starts afresh.
    for (const [name, known] of this.known) if (known.seen !== tick) this.known.delete(name);
  }

  private emit(disk: DiskState, prev: DiskStats, cur: DiskStats, elapsedMs: number, out: MetricValues): void {
    // Completed-I/O counts only go down when the device was removed and re-added: then every
    // counter restarted and nothing this tick can be trusted. Otherwise a drop in a byte or
    // tick counter is a 32-bit wrap (sectors on 32-bit kernels; io_ticks is a 32-bit ms count
    // on every kernel and wraps after 49.7 days of busy time).
    if (cur.readsCompleted < prev.readsCompleted || cur.writesCompleted < prev.writesCompleted) {
      this.log.debug({ disk: cur.name, prev: prev.readsCompleted, cur: cur.readsCompleted }, 'disk counters restarted; rates skipped this tick');
      return;
    }
    const read = counterDelta(prev.sectorsRead, cur.sectorsRead, true);
    const written = counterDelta(prev.sectorsWritten, cur.sectorsWritten, true);
    const busy = counterDelta(prev.ioTicksMs, cur.ioTicksMs, true);
    if (read !== undefined) out[disk.readMetric] = perSecond(read * DISKSTATS_SECTOR_BYTES, elapsedMs);
    if (written !== undefined) out[disk.writeMetric] = perSecond(written * DISKSTATS_SECTOR_BYTES, elapsedMs);
    // io_ticks is accounted when requests start and finish, so it can run a little ahead of
    // our clock (clamped, as iostat does); twice the interval is no longer jitter.
    if (busy !== undefined && busy <= 2 * elapsedMs) out[disk.utilMetric] = Math.min((busy / elapsedMs) * 100, 100);
    else this.logSkip(cur.name, 'io_ticks', prev.ioTicksMs, cur.ioTicksMs, elapsedMs);
    if (read === undefined) this.logSkip(cur.name, 'sectors read', prev.sectorsRead, cur.sectorsRead, elapsedMs);
    if (written === undefined) this.logSkip(cur.name, 'sectors written', prev.sectorsWritten, cur.sectorsWritten, elapsedMs);
  }

  private logSkip(disk: string, counter: string, prev: number, cur: number, elapsedMs: number): void {
    this.log.debug({ disk, counter, prev, cur, elapsedMs }, 'disk counter step is impossible; value skipped this tick');
  }
}

function newDiskState(name: string): DiskState {
  const seg = metricSegment(name);
  return { readMetric: `disk.${seg}.read_bps`, writeMetric: `disk.${seg}.write_bps`, utilMetric: `disk.${seg}.util`, prev: undefined };
}
