// One tegrastats line in, catalog metrics out. tegrastats has changed its line on nearly every
// L4T release (TX1's `cpu [2%,5%]@1734`, per-core `X%@MHz`, unitless rails and then `mW`,
// bracketed per-GPC clocks, JetPack 7's triple power values, Thor's percent-less `@[0,0,0]`), so
// the line is read field by field: each known field shape is tried at the current position and
// whatever matches none of them is reported as a warning, never guessed at.
import { metricSegment, uniqueSegment } from '../../../shared/catalog.js';

export interface TegrastatsLine {
  /** The line's own timestamp (ms since the epoch), or null when the line has none. */
  readonly t: number | null;
  readonly m: Record<string, number>;
  readonly warnings: string[];
}

const UNIT_BYTES: Readonly<Record<string, number>> = { kB: 1024, KB: 1024, MB: 1024 * 1024, GB: 1024 * 1024 * 1024 };

/** Rails that measure the whole board's input; power.board is one of these where present. */
export const INPUT_RAILS: ReadonlySet<string> = new Set(['vdd_in', 'pom_5v_in']);

/**
 * power.board in W from rails (segment → current mW): the input rail where the board has one,
 * else the sum of every rail. Summed in mW so 2340 + 390 is 2.73, not 2.7299999….
 */
export function boardPowerWatts(railsMw: ReadonlyMap<string, number>): number | undefined {
  if (railsMw.size === 0) return undefined;
  for (const [rail, mw] of railsMw) if (INPUT_RAILS.has(rail)) return mw / 1000;
  let sum = 0;
  for (const mw of railsMw.values()) sum += mw;
  return sum / 1000;
}

/** State shared by the field handlers while one line is read. */
interface LineState {
  readonly m: Record<string, number>;
  readonly warnings: string[];
  /** Current rail readings in mW by metric segment, for power.board. */
  readonly railsMw: Map<string, number>;
  readonly railNames: Set<string>;
  readonly tempNames: Set<string>;
}

interface Field {
  /** Sticky (`y`) regex; each ends with a lookahead for whitespace or the end of the line. */
  readonly re: RegExp;
  readonly apply: (m: RegExpExecArray, s: LineState) => void;
}

const END = '(?=\\s|$)';
const NUM = '\\d+(?:\\.\\d+)?';
const UNIT = '(kB|KB|MB|GB)';

/** `X%`, `@MHz`, `X%@MHz`, `X%@[a,b]`, `@[a,b,c]`: at least one part present. */
interface LoadFreq {
  readonly util?: number;
  readonly freqs?: number[];
  readonly bracketed: boolean;
}

const LOAD_FREQ = new RegExp(`^(?:(${NUM})%)?(?:@(?:(${NUM})|\\[([\\d.,]*)\\]))?$`);

function parseLoadFreq(raw: string): LoadFreq | null {
  const m = LOAD_FREQ.exec(raw);
  if (!m || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) return null;
  const util = m[1] === undefined ? undefined : Number(m[1]);
  let freqs: number[] | undefined;
  if (m[2] !== undefined) freqs = [Number(m[2])];
  else if (m[3] !== undefined) {
    const parts = m[3].split(',');
    if (parts.some((p) => !/^\d+(?:\.\d+)?$/.test(p))) return null;
    freqs = parts.map(Number);
  }
  return { ...(util === undefined ? {} : { util }), ...(freqs === undefined ? {} : { freqs }), bracketed: m[3] !== undefined };
}

function bytes(value: string, unit: string): number {
  return Number(value) * (UNIT_BYTES[unit] ?? NaN);
}

function setFinite(s: LineState, name: string, value: number): void {
  if (Number.isFinite(value)) s.m[name] = value;
  else s.warnings.push(`${name}: not a number (${value})`);
}

/** Engines tegrastats names (with a number and/or `_FREQ` on newer releases: NVENC0_FREQ, PVA0_FREQ). */
const ENGINE = '((?:NVENC|NVDEC|NVJPG|VIC|OFA|NVDLA|PVA|APE|AVP|MSENC|TSEC|SE|ISP|VI|NVCSI|CVNAS|DLA)\\d*(?:_FREQ)?)';

function cpuCores(list: string, sharedFreq: string | undefined, s: LineState): void {
  list.split(',').forEach((raw, core) => {
    const entry = raw.trim();
    // An offline core keeps its place in the list but has nothing to report.
    if (entry === 'off' || entry === '') return;
    const lf = parseLoadFreq(entry);
    if (!lf || lf.bracketed || (lf.util === undefined && lf.freqs === undefined)) {
      s.warnings.push(`CPU core ${core}: unrecognised entry ${JSON.stringify(entry)}`);
      return;
    }
    if (lf.util !== undefined) s.m[`cpu.core.${core}.util`] = lf.util;
    const freq = lf.freqs?.[0] ?? (sharedFreq === undefined ? undefined : Number(sharedFreq));
    if (freq !== undefined) s.m[`cpu.core.${core}.freq`] = freq;
  });
}

const FIELDS: readonly Field[] = [
  {
    // RAM 1923/3964MB (lfb 2x2MB): lfb NxZ is N free blocks of Z, the largest free size.
    re: new RegExp(`RAM (\\d+)\\/(\\d+)${UNIT}(?:\\s*\\(lfb (\\d+)x(\\d+)${UNIT}\\))?${END}`, 'y'),
    apply: (m, s) => {
      setFinite(s, 'mem.used', bytes(m[1]!, m[3]!));
      setFinite(s, 'mem.total', bytes(m[2]!, m[3]!));
      if (m[6] !== undefined) setFinite(s, 'mem.lfb', bytes(m[5]!, m[6]));
    },
  },
  {
    re: new RegExp(`SWAP (\\d+)\\/(\\d+)${UNIT}(?:\\s*\\(cached (\\d+)${UNIT}\\))?${END}`, 'y'),
    apply: (m, s) => {
      setFinite(s, 'swap.used', bytes(m[1]!, m[3]!));
      setFinite(s, 'swap.total', bytes(m[2]!, m[3]!));
      if (m[5] !== undefined) setFinite(s, 'swap.cached', bytes(m[4]!, m[5]));
    },
  },
  {
    // IRAM 0/252kB(lfb 252kB): no count here, the lfb is a size alone.
    re: new RegExp(`IRAM (\\d+)\\/(\\d+)${UNIT}(?:\\s*\\(lfb (\\d+)${UNIT}\\))?${END}`, 'y'),
    apply: (m, s) => {
      setFinite(s, 'jetson.iram.used', bytes(m[1]!, m[3]!));
      setFinite(s, 'jetson.iram.total', bytes(m[2]!, m[3]!));
      if (m[5] !== undefined) setFinite(s, 'jetson.iram.lfb', bytes(m[4]!, m[5]));
    },
  },
  {
    // Per-core `CPU [5%@1224,off,…]`, or the TX1 form `cpu [2%,5%,8%,11%]@1734` with one
    // clock shared by all cores.
    re: new RegExp(`(?:CPU|cpu) \\[([^\\]]*)\\](?:@(\\d+))?${END}`, 'y'),
    apply: (m, s) => cpuCores(m[1]!, m[2], s),
  },
  {
    re: new RegExp(`(?:EMC_FREQ|EMC) (\\S+)${END}`, 'y'),
    apply: (m, s) => {
      const lf = parseLoadFreq(m[1]!);
      if (!lf) {
        s.warnings.push(`EMC: unrecognised value ${JSON.stringify(m[1])}`);
        return;
      }
      if (lf.util !== undefined) s.m['jetson.emc.util'] = lf.util;
      if (lf.freqs !== undefined && lf.freqs.length > 0) s.m['jetson.emc.freq'] = Math.max(...lf.freqs);
    },
  },
  {
    // GR3D_FREQ 0%@76 | 63%@[621] | 12%@[1300,1300] (one clock per GPC) | 0% | @[0,0,0] (Thor:
    // no load figure at all, so none is reported).
    re: new RegExp(`(?:GR3D_FREQ|GR3D) (\\S+)${END}`, 'y'),
    apply: (m, s) => {
      const lf = parseLoadFreq(m[1]!);
      if (!lf) {
        s.warnings.push(`GR3D: unrecognised value ${JSON.stringify(m[1])}`);
        return;
      }
      if (lf.util !== undefined) s.m['gpu.0.util'] = lf.util;
      if (lf.freqs !== undefined && lf.freqs.length > 0) {
        s.m['gpu.0.clock.gr'] = Math.max(...lf.freqs);
        if (lf.bracketed) lf.freqs.forEach((f, gpc) => (s.m[`gpu.0.gpc.${gpc}.freq`] = f));
      }
    },
  },
  {
    re: new RegExp(`MTS fg (${NUM})% bg (${NUM})%${END}`, 'y'),
    apply: (m, s) => {
      s.m['jetson.mts.fg'] = Number(m[1]);
      s.m['jetson.mts.bg'] = Number(m[2]);
    },
  },
  {
    // A clock cap, not a measurement; the catalog has no place for it.
    re: new RegExp(`EDP limit (\\d+)${END}`, 'y'),
    apply: (m, s) => s.warnings.push(`EDP limit ${m[1]}: not reported (no catalog metric)`),
  },
  {
    // NVENC 79%@166 | NVDEC off | NVENC 716 | NVENC0_FREQ @0 | VIC_FREQ 115
    re: new RegExp(`${ENGINE} (off|${NUM}%@${NUM}|${NUM}%|@${NUM}|${NUM})${END}`, 'y'),
    apply: (m, s) => {
      const engine = metricSegment(m[1]!.replace(/_FREQ$/, ''));
      const value = m[2]!;
      const base = `jetson.engine.${engine}`;
      if (value === 'off') {
        s.m[`${base}.on`] = 0;
        return;
      }
      const lf = parseLoadFreq(/^\d/.test(value) && !value.includes('%') ? `@${value}` : value);
      if (!lf) return;
      if (lf.util !== undefined) {
        s.m[`${base}.util`] = lf.util;
        if (lf.freqs !== undefined) s.m[`${base}.on`] = 1;
      }
      if (lf.freqs?.[0] !== undefined) s.m[`${base}.freq`] = lf.freqs[0];
    },
  },
  {
    // CPU@44.5C, tj@44.343C, JetPack 7's cpu@52.968C/52.968C (the first value is taken).
    re: new RegExp(`([A-Za-z][\\w-]*)@(-?${NUM})C(?:\\/-?${NUM}C)*${END}`, 'y'),
    apply: (m, s) => {
      const name = m[1]!;
      const celsius = Number(m[2]);
      // -256 °C is how tegrastats shows a powered-down sensor (Orin's CV0-2, GPU when idle).
      if (celsius === -256) return;
      // The PMIC "sensor" is a threshold alarm that reads exactly 100 °C until it trips.
      if (/^pmic/i.test(name) && celsius === 100) return;
      s.m[`temp.${uniqueSegment(metricSegment(name), s.tempNames)}`] = celsius;
    },
  },
  {
    // VDD_IN 1931/1931 (mW, current/average), VDD_IN 2763mW/2846mW, JetPack 7's
    // 5139mW/5139mW/5139mW (current/average/peak).
    re: new RegExp(`([A-Za-z][A-Za-z0-9_]*) (${NUM})(?:mW)?\\/(${NUM})(?:mW)?(?:\\/(${NUM})(?:mW)?)?${END}`, 'y'),
    apply: (m, s) => {
      const rail = uniqueSegment(metricSegment(m[1]!), s.railNames);
      const now = Number(m[2]);
      s.railsMw.set(rail, now);
      s.m[`power.rail.${rail}`] = now / 1000;
      s.m[`power.rail.${rail}.avg`] = Number(m[3]) / 1000;
      if (m[4] !== undefined) s.m[`power.rail.${rail}.max`] = Number(m[4]) / 1000;
    },
  },
];

/** A field this parser does not know: its name and, when it has one, its value token. */
const UNKNOWN = new RegExp(`([A-Za-z][\\w-]*) ((?:off|[-\\d@%.,\\[\\]\\/]+(?:mW|C|kB|MB|GB)?))${END}|(\\S+)`, 'y');

const TIMESTAMP = /^\s*(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})(?=\s|$)/;

/**
 * tegrastats prints local time without a zone, and the agent may run in a container whose zone
 * differs from the board's, so no offset can be known for sure: the stamp is read as UTC. The
 * collector stamps samples with its own clock and uses this only for `edgewatch parse`.
 */
function readTimestamp(line: string, warnings: string[]): { t: number | null; rest: number } {
  const m = TIMESTAMP.exec(line);
  if (!m) return { t: null, rest: 0 };
  const [mo, d, y, h, mi, sec] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, sec);
  const back = new Date(t);
  if (mo < 1 || mo > 12 || back.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59) {
    warnings.push(`timestamp ${JSON.stringify(m[0].trim())} is not a valid MM-DD-YYYY HH:MM:SS date`);
    return { t: null, rest: m[0].length };
  }
  return { t, rest: m[0].length };
}

/** Reads one tegrastats line. Never throws: what is not understood goes to `warnings`. */
export function parseTegrastatsLine(line: string): TegrastatsLine {
  const warnings: string[] = [];
  const s: LineState = { m: {}, warnings, railsMw: new Map(), railNames: new Set(), tempNames: new Set() };
  const { t, rest } = readTimestamp(line, warnings);
  let pos = rest;
  const n = line.length;
  while (pos < n) {
    while (pos < n && /\s/.test(line[pos]!)) pos++;
    if (pos >= n) break;
    let matched = false;
    for (const field of FIELDS) {
      field.re.lastIndex = pos;
      const m = field.re.exec(line);
      if (!m) continue;
      field.apply(m, s);
      pos = field.re.lastIndex;
      matched = true;
      break;
    }
    if (matched) continue;
    UNKNOWN.lastIndex = pos;
    const u = UNKNOWN.exec(line);
    // UNKNOWN always matches at a non-space character; the guard keeps the loop finite anyway.
    const text = u ? u[0] : line.slice(pos, pos + 1);
    warnings.push(`unknown field ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}`);
    pos = u && UNKNOWN.lastIndex > pos ? UNKNOWN.lastIndex : pos + 1;
  }
  const board = boardPowerWatts(s.railsMw);
  if (board !== undefined) s.m['power.board'] = board;
  return { t, m: s.m, warnings };
}
