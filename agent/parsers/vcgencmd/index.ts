// `parseVcgencmd`: the text answers of Raspberry Pi's vcgencmd in, catalog metrics out. Any mix
// of get_throttled, measure_temp, measure_clock, measure_volts and get_mem lines is read, one
// per line, optionally labelled by a shell loop (`arm:\tfrequency(45)=600000000`), and so is
// the kernel's under-voltage message, which carries the same bit field.
import { metricSegment } from '../../../shared/catalog.js';
import type { ParsedSample, ParsedToolOutput } from '../types.js';
import { parseGetMem, parseMeasureClock, parseMeasureTemp, parseMeasureVolts } from './measure.js';
import { parseDmesgThrottled, parseGetThrottled, throttleMetrics } from './throttled.js';

export { THROTTLE_FLAGS, THROTTLE_BITS_METRIC, parseDmesgThrottled, parseGetThrottled, parseThrottleHex, throttleMetrics } from './throttled.js';
export { parseGetMem, parseMeasureClock, parseMeasureTemp, parseMeasureVolts } from './measure.js';
export type { ClockReading, MemSplit } from './measure.js';

export type VcgencmdOutput = ParsedToolOutput<'vcgencmd'>;

export type VcgencmdLineKind = 'get_throttled' | 'dmesg' | 'measure_temp' | 'measure_clock' | 'measure_volts' | 'get_mem';

export interface ParseVcgencmdOptions {
  /**
   * The block asked for (`measure_clock arm` → `arm`). The answer does not name it and the
   * number in `frequency(N)` is a firmware clock id that differs between SoCs, so an unlabelled
   * clock line is only reported when the caller says which block it measured.
   */
  readonly clockBlock?: string;
  /** The rail asked for (`measure_volts core` → `core`); the answer does not name it either. */
  readonly voltRail?: string;
}

const EXPECTED =
  "expected vcgencmd output such as throttled=0x50005, temp=48.5'C, frequency(45)=600000000, volt=1.20V or gpu=256M (optionally labelled `arm:\\t…`), or the kernel's `Under-voltage detected! (0x00050005)`";

/** Thrown for text with no vcgencmd line in it; the message says what was expected. */
export class NotVcgencmdOutputError extends Error {
  constructor(detail: string) {
    super(`not vcgencmd output: ${detail}; ${EXPECTED}`);
    this.name = 'NotVcgencmdOutputError';
  }
}

/** `arm:\tfrequency(45)=…` → label `arm`; a plain answer has none. */
const LABELLED = /^([A-Za-z][A-Za-z0-9_-]*):\s+(\S.*)$/;

interface LineResult {
  readonly kind: VcgencmdLineKind;
  /** Metrics read from the line; empty when the line is understood but has nothing to report. */
  readonly m: Record<string, number>;
  readonly warning?: string;
}

/** One line, or undefined when it is not a vcgencmd (or kernel throttle) line. */
export function parseVcgencmdLine(raw: string, options: ParseVcgencmdOptions = {}): LineResult | undefined {
  const line = raw.trim();
  const labelled = LABELLED.exec(line);
  const label = labelled ? metricSegment(labelled[1]!) : undefined;
  const body = labelled ? labelled[2]! : line;

  const throttled = parseGetThrottled(body);
  if (throttled !== undefined) return { kind: 'get_throttled', m: throttleMetrics(throttled) };
  const fromLog = parseDmesgThrottled(line);
  if (fromLog !== undefined) return { kind: 'dmesg', m: throttleMetrics(fromLog) };

  const temp = parseMeasureTemp(body);
  if (temp !== undefined) return { kind: 'measure_temp', m: { [`temp.${label ?? 'soc'}`]: temp } };

  const clock = parseMeasureClock(body);
  if (clock !== undefined) {
    const block = label ?? (options.clockBlock === undefined ? undefined : metricSegment(options.clockBlock));
    if (block === undefined) {
      return { kind: 'measure_clock', m: {}, warning: `${JSON.stringify(line)}: clock id ${clock.id} does not say which block was measured; not reported` };
    }
    return { kind: 'measure_clock', m: { [`pi.clock.${block}`]: clock.hz / 1e6 } };
  }

  const volts = parseMeasureVolts(body);
  if (volts !== undefined) {
    const rail = label ?? (options.voltRail === undefined ? undefined : metricSegment(options.voltRail));
    if (rail === undefined) return { kind: 'measure_volts', m: {}, warning: `${JSON.stringify(line)}: the rail measured is not named; not reported` };
    return { kind: 'measure_volts', m: { [`pi.volt.${rail}`]: volts } };
  }

  const mem = parseGetMem(body);
  if (mem !== undefined) {
    // The memory split is configuration, not a measurement, and the catalog has no metric for it.
    return { kind: 'get_mem', m: {}, warning: `${JSON.stringify(line)}: memory split (${mem.name} ${mem.bytes} bytes) has no catalog metric; not reported` };
  }
  return undefined;
}

/**
 * Parses vcgencmd output. Values go into one sample until a metric repeats, which starts the
 * next (three runs of `measure_clock v3d` are three samples). Unknown lines become warnings;
 * text with no recognisable line throws NotVcgencmdOutputError.
 */
export function parseVcgencmd(text: string, options: ParseVcgencmdOptions = {}): VcgencmdOutput {
  const samples: ParsedSample[] = [];
  const warnings: string[] = [];
  const kinds = new Set<VcgencmdLineKind>();
  let current: Record<string, number> = {};
  const flush = () => {
    if (Object.keys(current).length > 0) samples.push({ t: null, m: current });
    current = {};
  };

  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === '') continue;
    const parsed = parseVcgencmdLine(raw, options);
    if (parsed === undefined) {
      warnings.push(`${JSON.stringify(raw.trim().slice(0, 120))}: not a vcgencmd line; skipped`);
      continue;
    }
    kinds.add(parsed.kind);
    if (parsed.warning !== undefined) warnings.push(parsed.warning);
    if (Object.keys(parsed.m).some((k) => k in current)) flush();
    Object.assign(current, parsed.m);
  }
  flush();

  if (kinds.size === 0) {
    const first = text.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
    throw new NotVcgencmdOutputError(
      first === '' ? 'the text is empty' : `no line was recognised; the text starts with ${JSON.stringify(first.length > 60 ? `${first.slice(0, 60)}…` : first)}`,
    );
  }
  const [only] = kinds;
  return { tool: 'vcgencmd', format: kinds.size === 1 ? only! : 'mixed', samples, warnings };
}
