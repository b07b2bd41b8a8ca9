// The clock reference batches carry so the hub can tell "the wall clock was wrong, then
// fixed" from "data from the future" (dashboard/server/clock.ts). A board without an RTC may
// spool hours of samples on a wrong clock before NTP steps it; the monotonic clock is never
// stepped, so the difference (wall − mono) at creation against the same at send is the step.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../shared/log.js';
import type { BatchClock } from '../../shared/protocol.js';

/** Characters of the kernel's boot id kept: 48 random bits tell boots apart, and every batch carries it. */
const BOOT_ID_CHARS = 12;

export class MonoClock {
  /** @param boot this boot's id (see readBootId) */
  constructor(readonly boot: string) {}

  /** Reads the boot id under `procRoot`; without one, a random id for this process (see readBootId). */
  static open(procRoot: string, log: Logger): MonoClock {
    return new MonoClock(readBootId(procRoot, log));
  }

  /** Monotonic ms. process.hrtime is CLOCK_MONOTONIC on Linux: since boot, the same for every process. */
  mono(): number {
    return Number(process.hrtime.bigint() / 1_000_000n);
  }

  /** The pair read together, for a batch being created. */
  now(): BatchClock {
    return { boot: this.boot, mono: this.mono(), wall: Date.now() };
  }
}

/**
 * The kernel's boot id (/proc/sys/kernel/random/boot_id), shortened. Where it cannot be read
 * (not Linux, a locked-down /proc) a random id per process: the hub then treats each agent
 * restart like a reboot, which is only less exact (no monotonic link across the restart).
 */
export function readBootId(procRoot: string, log: Logger): string {
  const path = join(procRoot, 'sys/kernel/random/boot_id');
  try {
    const id = readFileSync(path, 'utf8').replace(/[^0-9a-f]/gi, '').slice(0, BOOT_ID_CHARS).toLowerCase();
    if (id.length === BOOT_ID_CHARS) return id;
    log.debug({ path }, 'boot id is not hex: using a random id for this agent process');
  } catch (err) {
    log.debug({ path, err: (err as Error).message }, 'boot id unreadable: using a random id for this agent process');
  }
  return `p-${randomBytes(6).toString('hex')}`;
}
