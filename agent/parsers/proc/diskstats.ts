// /proc/diskstats: one line per block device, see the kernel's
// Documentation/admin-guide/iostats.rst. 14 columns since 2.6, 18 since 4.18 (discards),
// 20 since 5.5 (flushes). Sectors are always 512-byte units, whatever the device's block size.

export interface DiskStats {
  readonly major: number;
  readonly minor: number;
  readonly name: string;
  readonly readsCompleted: number;
  readonly readsMerged: number;
  readonly sectorsRead: number;
  readonly readMs: number;
  readonly writesCompleted: number;
  readonly writesMerged: number;
  readonly sectorsWritten: number;
  readonly writeMs: number;
  readonly inFlight: number;
  /** Milliseconds the device had I/O in flight: the basis of %util. */
  readonly ioTicksMs: number;
  readonly weightedIoMs: number;
  readonly discardsCompleted?: number;
  readonly discardsMerged?: number;
  readonly sectorsDiscarded?: number;
  readonly discardMs?: number;
  readonly flushesCompleted?: number;
  readonly flushMs?: number;
}

export const DISKSTATS_SECTOR_BYTES = 512;

export function parseDiskstats(text: string): DiskStats[] {
  const disks: DiskStats[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // Kernels before 2.6.25 printed partitions with 4 counters only; those lines (and
    // anything else short or non-numeric) are skipped.
    if (f.length < 14) continue;
    const n = f.map((s, i) => (i === 2 ? 0 : Number(s)));
    if (n.some((v) => !Number.isFinite(v))) continue;
    disks.push({
      major: n[0]!,
      minor: n[1]!,
      name: f[2]!,
      readsCompleted: n[3]!,
      readsMerged: n[4]!,
      sectorsRead: n[5]!,
      readMs: n[6]!,
      writesCompleted: n[7]!,
      writesMerged: n[8]!,
      sectorsWritten: n[9]!,
      writeMs: n[10]!,
      inFlight: n[11]!,
      ioTicksMs: n[12]!,
      weightedIoMs: n[13]!,
      ...(n.length >= 18 && { discardsCompleted: n[14]!, discardsMerged: n[15]!, sectorsDiscarded: n[16]!, discardMs: n[17]! }),
      ...(n.length >= 20 && { flushesCompleted: n[18]!, flushMs: n[19]! }),
    });
  }
  return disks;
}
