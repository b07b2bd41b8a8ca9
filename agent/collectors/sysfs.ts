// Reading /proc and /sys: small files that may vanish or fail at any read, and directories
// of numbered entries (cpu0…, thermal_zone0…, hwmon0…, temp1_input…).
import { readdirSync, readFileSync } from 'node:fs';

/** A small /proc or /sys file, or undefined when it cannot be read (gone, EIO, ENODATA…). */
export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export interface NumberedEntry {
  /** The entry's name, e.g. `thermal_zone10`. */
  readonly name: string;
  /** Its number, e.g. 10. */
  readonly n: number;
}

/**
 * Entries of `dir` whose name matches `pattern` (one capture group: the number), in numeric
 * order so zone10 follows zone9; [] when the directory cannot be read.
 */
export function listNumbered(dir: string, pattern: RegExp): NumberedEntry[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const found: NumberedEntry[] = [];
  for (const name of entries) {
    const m = pattern.exec(name);
    if (m) found.push({ name, n: Number(m[1]) });
  }
  return found.sort((a, b) => a.n - b.n);
}
