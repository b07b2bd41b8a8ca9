// Size and usage of the mounted filesystems that live on storage, via statfs(2) on each
// mount point (one syscall each per tick). The mount list is re-read every minute so a USB
// disk mounted later is picked up.
import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import { mountSegment, uniqueSegment } from '../../shared/catalog.js';
import type { Logger } from '../../shared/log.js';
import { parseMounts, type MountEntry } from '../parsers/proc/mounts.js';
import type { Collector, CollectorFactory, MetricValues } from './collector.js';
import { monotonicMs, type MonotonicClock } from './counters.js';
import { readText } from './sysfs.js';

/** The statfs fields used; counts are in units of bsize. */
export interface FsStats {
  readonly bsize: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
}

export interface FilesystemDeps {
  readonly statfs?: (path: string) => FsStats;
  readonly clock?: MonotonicClock;
}

const RESCAN_MS = 60_000;

/**
 * Read-only images are always 100 % full (snap packages are squashfs on /dev/loopN), so they
 * say nothing about free space even though they sit on a block device.
 */
const IMAGE_FS = new Set(['squashfs', 'iso9660', 'udf', 'erofs', 'cramfs']);

/** Pool filesystems whose source is a dataset name, not a /dev path. */
const POOL_FS = new Set(['zfs']);

/**
 * Whether a mount is a filesystem on storage worth a usage series.
 *
 * Kept: anything mounted from a /dev block device (ext4, xfs, btrfs, vfat, f2fs, exfat, ntfs
 * via fuseblk…) and zfs datasets. That leaves out every pseudo filesystem (proc, sysfs,
 * devtmpfs, cgroup*, debugfs…) and RAM-backed tmpfs/ramfs, whose source is a word, not a
 * device. It also leaves out network filesystems (nfs, cifs, sshfs): statfs is synchronous
 * and on a mount whose server is gone it blocks, which would freeze the agent's loop.
 *
 * overlay is kept only at `/`: that is the root of a Pi with the read-only overlay enabled,
 * or of the container the agent runs in. Elsewhere overlay mounts are container layers
 * (/var/lib/docker/overlay2/…/merged) that come and go with containers and repeat the usage
 * of the disk under them.
 */
export function isStorageMount(m: MountEntry): boolean {
  if (IMAGE_FS.has(m.fsType)) return false;
  if (m.fsType === 'overlay') return m.mountPoint === '/';
  return m.source.startsWith('/dev/') || POOL_FS.has(m.fsType);
}

export interface WatchedFs {
  readonly mountPoint: string;
  readonly source: string;
  readonly usedMetric: string;
  readonly sizeMetric: string;
  readonly utilMetric: string;
}

/**
 * The mounts to report, in mount order. A later mount on the same mount point hides the
 * earlier one (statfs sees the top one), so the last entry per mount point wins. The same
 * device mounted more than once (bind mounts, btrfs subvolumes, a container's volume) is
 * reported once, at its first mount point, which is the original mount rather than a bind.
 */
export function selectFilesystems(mounts: readonly MountEntry[]): WatchedFs[] {
  const visible = new Map<string, MountEntry>();
  for (const m of mounts) {
    visible.delete(m.mountPoint);
    visible.set(m.mountPoint, m);
  }
  const chosen: MountEntry[] = [];
  const indexBySource = new Map<string, number>();
  for (const m of visible.values()) {
    if (!isStorageMount(m)) continue;
    const i = indexBySource.get(m.source);
    if (i === undefined) {
      indexBySource.set(m.source, chosen.length);
      chosen.push(m);
    } else if (m.mountPoint === '/' && chosen[i]!.mountPoint !== '/') {
      // `/` is the one mount everyone looks for; never let a bind of its device shadow it.
      chosen[i] = m;
    }
  }
  const taken = new Set<string>();
  return chosen.map((m) => {
    const seg = uniqueSegment(mountSegment(m.mountPoint), taken);
    return {
      mountPoint: m.mountPoint,
      source: m.source,
      usedMetric: `fs.${seg}.used`,
      sizeMetric: `fs.${seg}.size`,
      utilMetric: `fs.${seg}.util`,
    };
  });
}

export function createFilesystemCollector(deps: FilesystemDeps = {}): CollectorFactory {
  const statfs = deps.statfs ?? ((path: string) => statfsSync(path));
  const clock = deps.clock ?? monotonicMs;
  return {
    name: 'filesystem',
    async detect(ctx) {
      // /proc/mounts is a link to self/mounts; the fallback covers trees where it is a file.
      // In a container that sees the host at hostRoot (with the host's PID namespace),
      // self/mounts is the container's own table; PID 1's is the host's.
      const own = [join(ctx.procRoot, 'self/mounts'), join(ctx.procRoot, 'mounts')];
      const candidates = ctx.hostRoot === '/' ? own : [join(ctx.procRoot, '1/mounts'), ...own];
      const path = candidates.find((p) => readText(p) !== undefined);
      if (path === undefined) return null;
      const collector = new FilesystemCollector(path, ctx.hostRoot, statfs, clock, ctx.log);
      if (collector.watched.length === 0) {
        ctx.log.debug({ path }, 'no storage filesystems mounted; filesystem collector off');
        return null;
      }
      return collector;
    },
  };
}

export const filesystemCollector = createFilesystemCollector();

class FilesystemCollector implements Collector {
  readonly name = 'filesystem';
  watched: WatchedFs[] = [];
  /** Where statfs looks for each watched mount: under hostRoot, joined once per rescan. */
  private statPaths: string[] = [];
  private scannedAt = 0;
  private readonly failing = new Set<string>();

  constructor(
    private readonly mountsPath: string,
    private readonly hostRoot: string,
    private readonly statfs: (path: string) => FsStats,
    private readonly clock: MonotonicClock,
    private readonly log: Logger,
  ) {
    this.rescan();
  }

  private rescan(): void {
    this.scannedAt = this.clock();
    const text = readText(this.mountsPath);
    // Keep the last good list: a failed read is no reason to stop reporting.
    if (text === undefined) {
      this.log.debug({ path: this.mountsPath }, 'cannot read the mount table; keeping the previous list');
      return;
    }
    this.watched = selectFilesystems(parseMounts(text));
    this.statPaths = this.watched.map((fs) => join(this.hostRoot, fs.mountPoint));
    this.log.debug({ filesystems: this.watched.map((f) => `${f.source} on ${f.mountPoint}`) }, 'filesystems');
  }

  sample(_now: number, out: MetricValues): void {
    if (this.clock() - this.scannedAt >= RESCAN_MS) this.rescan();
    for (const [i, fs] of this.watched.entries()) {
      const path = this.statPaths[i]!;
      let st: FsStats;
      try {
        st = this.statfs(path);
      } catch (err) {
        // A USB disk pulled without unmounting answers EIO until it is unmounted.
        if (!this.failing.has(path)) this.log.debug({ path, err: (err as Error).message }, 'statfs failed; filesystem left out');
        this.failing.add(path);
        continue;
      }
      this.failing.delete(path);
      if (!(st.blocks > 0) || !(st.bsize > 0)) continue;
      const size = st.blocks * st.bsize;
      const used = (st.blocks - st.bfree) * st.bsize;
      const avail = st.bavail * st.bsize;
      out[fs.sizeMetric] = size;
      out[fs.usedMetric] = used;
      // As df: blocks reserved for root (5 % on ext4) count neither as used nor as available,
      // so a full disk reads 100 % even though size − used is not zero.
      if (used + avail > 0) out[fs.utilMetric] = (used / (used + avail)) * 100;
    }
  }
}
