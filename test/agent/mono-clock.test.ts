// The clock reference an agent stamps on batches (mono-clock.ts): the boot id from procRoot
// or a random one, a monotonic reading that agrees with the wall clock's pace, and the disk
// spool keeping the reference across a reopen (an agent restart) while reading older records.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskSpool } from '../../agent/transport/disk-spool.js';
import { MonoClock, readBootId } from '../../agent/transport/mono-clock.js';
import { silentLogger } from '../../shared/log.js';
import { BatchClockSchema } from '../../shared/protocol.js';
import { tempDir } from '../helpers/temp-dir.js';

const temps: ReturnType<typeof tempDir>[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) t.remove();
});
const scratch = (): string => {
  const t = tempDir();
  temps.push(t);
  return t.dir;
};

describe('boot id', () => {
  it("reads the kernel's boot id under procRoot, shortened to 12 hex characters", () => {
    const proc = scratch();
    mkdirSync(join(proc, 'sys/kernel/random'), { recursive: true });
    writeFileSync(join(proc, 'sys/kernel/random/boot_id'), '3F2504E0-4F89-11D3-9A0C-0305E82C3301\n');
    expect(readBootId(proc, silentLogger())).toBe('3f2504e04f89');
  });
  it('falls back to a random id per process where none can be read', () => {
    const a = readBootId(scratch(), silentLogger());
    const b = readBootId(scratch(), silentLogger());
    expect(a).toMatch(/^p-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
  });
  it('on this Linux machine, two agent processes of one boot would read the same id', () => {
    expect(readBootId('/proc', silentLogger())).toBe(readBootId('/proc', silentLogger()));
  });
});

describe('MonoClock', () => {
  it('reads a monotonic ms clock beside the wall clock, valid for the wire', async () => {
    const clock = MonoClock.open('/proc', silentLogger());
    const a = clock.now();
    await new Promise((r) => setTimeout(r, 120));
    const b = clock.now();
    expect(BatchClockSchema.safeParse(a).success).toBe(true);
    expect(b.mono - a.mono).toBeGreaterThanOrEqual(100);
    // No step happened: (wall − mono) stays within a few ms, which the hub ignores.
    expect(Math.abs(b.wall - b.mono - (a.wall - a.mono))).toBeLessThan(50);
  });
});

describe('disk spool and the clock reference', () => {
  it('keeps a batch’s clock across a reopen, and still reads a batch spooled without one', () => {
    const dir = join(scratch(), 'spool');
    const clock = { boot: 'abcdef012345', mono: 123_456, wall: 1_780_000_000_000 };
    const first = DiskSpool.open({ dir, log: silentLogger() });
    first.push({ seq: 1, samples: [{ t: 1, m: { x: 1 } }] });
    first.push({ seq: 2, samples: [{ t: 2, m: { x: 2 } }], clock });
    first.close();
    const again = DiskSpool.open({ dir, log: silentLogger() });
    expect(again.read(1)).toEqual({ seq: 1, samples: [{ t: 1, m: { x: 1 } }] });
    expect(again.read(2)).toEqual({ seq: 2, samples: [{ t: 2, m: { x: 2 } }], clock });
    again.close();
  });
});
