// /proc/meminfo: `Key:   value kB` lines. kB fields become bytes; the few unitless ones
// (HugePages_Total…) are counts and stay as they are.

const LINE = /^([^:\s]+):\s+(\d+)(\s+kB)?\s*$/;

/** Field name (as the kernel spells it, e.g. `MemAvailable`, `Active(anon)`) → value. */
export function parseMeminfo(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const value = Number(m[2]);
    // The kernel's "kB" is KiB.
    fields.set(m[1]!, m[3] === undefined ? value : value * 1024);
  }
  return fields;
}
