// /proc/cpuinfo as far as a Raspberry Pi is concerned: the trailer lines `Hardware`, `Revision`,
// `Serial` and `Model`. Kernels differ: newer ones drop `Hardware`, arm64 ones print no
// `model name`, and every Pi says `Hardware : BCM2835` whatever its SoC, so the SoC comes
// from the revision code, never from `Hardware`.

export interface PiCpuinfo {
  /** `BCM2835` on every Pi (a family name, not the SoC). */
  readonly hardware?: string;
  /** Board revision code as printed, lowercase hex, e.g. `d03141`. */
  readonly revision?: string;
  readonly serial?: string;
  /** e.g. `Raspberry Pi Compute Module 4 Rev 1.1`. */
  readonly model?: string;
  /** Number of `processor` stanzas. */
  readonly processors: number;
}

export function parseCpuinfo(text: string): PiCpuinfo {
  const fields = new Map<string, string>();
  let processors = 0;
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'processor') processors++;
    // The trailer comes once, after the per-CPU stanzas; the first occurrence wins.
    else if (value !== '' && !fields.has(key)) fields.set(key, value);
  }
  const revision = fields.get('revision');
  return {
    ...(fields.has('hardware') && { hardware: fields.get('hardware')! }),
    ...(revision !== undefined && /^[0-9a-f]+$/i.test(revision) && { revision: revision.toLowerCase() }),
    ...(fields.has('serial') && { serial: fields.get('serial')! }),
    ...(fields.has('model') && { model: fields.get('model')! }),
    processors,
  };
}

// New-style revision codes (Raspberry Pi documentation, "Raspberry Pi revision codes"):
//   NOQuuuWuFMMMCCCCPPPPTTTTTTTTRRRR
// N/O/Q: overvoltage, OTP program, OTP read disallowed; W: warranty voided by overclocking;
// F: new-style flag; MMM memory; CCCC manufacturer; PPPP processor; T type; R revision.

const MEMORY: readonly (string | undefined)[] = ['256MB', '512MB', '1GB', '2GB', '4GB', '8GB', '16GB', undefined /* 7: "other" */];
const MEMORY_BYTES: Readonly<Record<string, number>> = {
  '256MB': 256 * 2 ** 20,
  '512MB': 512 * 2 ** 20,
  '1GB': 2 ** 30,
  '2GB': 2 * 2 ** 30,
  '4GB': 4 * 2 ** 30,
  '8GB': 8 * 2 ** 30,
  '16GB': 16 * 2 ** 30,
};
const MANUFACTURERS: readonly string[] = ['Sony UK', 'Egoman', 'Embest', 'Sony Japan', 'Embest', 'Stadium'];
const PROCESSORS: readonly string[] = ['BCM2835', 'BCM2836', 'BCM2837', 'BCM2711', 'BCM2712'];
const TYPES: Readonly<Record<number, string>> = {
  0x00: 'A',
  0x01: 'B',
  0x02: 'A+',
  0x03: 'B+',
  0x04: '2B',
  0x05: 'Alpha',
  0x06: 'CM1',
  0x08: '3B',
  0x09: 'Zero',
  0x0a: 'CM3',
  0x0c: 'Zero W',
  0x0d: '3B+',
  0x0e: '3A+',
  0x10: 'CM3+',
  0x11: '4B',
  0x12: 'Zero 2 W',
  0x13: '400',
  0x14: 'CM4',
  0x15: 'CM4S',
  0x17: '5',
  0x18: 'CM5',
  0x19: '500',
  0x1a: 'CM5 Lite',
  0x1b: 'CM0',
};

// Old-style codes 0002–0015 were sequential: model, PCB revision, memory, manufacturer.
const OLD_STYLE: Readonly<Record<number, readonly [type: string, revision: string, memory: string | undefined, manufacturer: string]>> = {
  0x02: ['B', '1.0', '256MB', 'Egoman'],
  0x03: ['B', '1.0', '256MB', 'Egoman'],
  0x04: ['B', '2.0', '256MB', 'Sony UK'],
  0x05: ['B', '2.0', '256MB', 'Qisda'],
  0x06: ['B', '2.0', '256MB', 'Egoman'],
  0x07: ['A', '2.0', '256MB', 'Egoman'],
  0x08: ['A', '2.0', '256MB', 'Sony UK'],
  0x09: ['A', '2.0', '256MB', 'Qisda'],
  0x0d: ['B', '2.0', '512MB', 'Egoman'],
  0x0e: ['B', '2.0', '512MB', 'Sony UK'],
  0x0f: ['B', '2.0', '512MB', 'Egoman'],
  0x10: ['B+', '1.2', '512MB', 'Sony UK'],
  0x11: ['CM1', '1.0', '512MB', 'Sony UK'],
  0x12: ['A+', '1.1', '256MB', 'Sony UK'],
  0x13: ['B+', '1.2', '512MB', 'Embest'],
  0x14: ['CM1', '1.0', '512MB', 'Embest'],
  // Sold with 256 MB and with 512 MB under the same code: the code cannot say which.
  0x15: ['A+', '1.1', undefined, 'Embest'],
};

export interface PiRevision {
  readonly code: string;
  readonly style: 'new' | 'old';
  /** Board type as the documentation names it: `3B`, `3B+`, `CM4`, …; undefined for a type number it does not list. */
  readonly type?: string;
  /** The raw type number (new style), for types this table does not know yet. */
  readonly typeId?: number;
  /** PCB revision, e.g. `1.1`. */
  readonly revision: string;
  readonly memory?: string;
  readonly memoryBytes?: number;
  readonly manufacturer?: string;
  /** The SoC, new style only (old-style boards are all BCM2835). */
  readonly processor?: string;
  /** W bit: the warranty was voided by overclocking (old style: the `100` prefix). */
  readonly warrantyVoided: boolean;
}

/** Decodes a cpuinfo `Revision` code (`d03141`, `a02082`, `0010`), or undefined for one that is neither style. */
export function decodeRevisionCode(code: string): PiRevision | undefined {
  const text = code.trim().toLowerCase();
  if (!/^[0-9a-f]{1,8}$/.test(text)) return undefined;
  const value = Number.parseInt(text, 16);
  if ((value >>> 23) & 1) {
    const typeId = (value >>> 4) & 0xff;
    const memory = MEMORY[(value >>> 20) & 0x7];
    const manufacturer = MANUFACTURERS[(value >>> 16) & 0xf];
    const processor = PROCESSORS[(value >>> 12) & 0xf];
    const type = TYPES[typeId];
    return {
      code: text,
      style: 'new',
      ...(type !== undefined && { type }),
      typeId,
      revision: `1.${value & 0xf}`,
      ...(memory !== undefined && { memory, memoryBytes: MEMORY_BYTES[memory]! }),
      ...(manufacturer !== undefined && { manufacturer }),
      ...(processor !== undefined && { processor }),
      warrantyVoided: ((value >>> 25) & 1) === 1,
    };
  }
  // Old style; an over-volted board shows the code with `100` in front (bit 24).
  const old = OLD_STYLE[value & 0xffffff];
  if (old === undefined) return undefined;
  const [type, revision, memory, manufacturer] = old;
  return {
    code: text,
    style: 'old',
    type,
    revision,
    ...(memory !== undefined && { memory, memoryBytes: MEMORY_BYTES[memory]! }),
    manufacturer,
    processor: 'BCM2835',
    warrantyVoided: ((value >>> 24) & 1) === 1,
  };
}
