// `parseTegrastats`: tegrastats output (one line per interval) in, one sample per line out.
import type { ParsedSample, ParsedToolOutput } from '../types.js';
import { parseTegrastatsLine } from './line.js';

export { boardPowerWatts, INPUT_RAILS, parseTegrastatsLine, type TegrastatsLine } from './line.js';

export type TegrastatsOutput = ParsedToolOutput<'tegrastats'>;

const EXPECTED = 'expected tegrastats lines such as "RAM 1923/3964MB (lfb 2x2MB) CPU [5%@1224,4%@1224] EMC_FREQ 0%@1600 GR3D_FREQ 0%@76 …"';

/**
 * Whether a line is a tegrastats report: every release since L4T 24 starts its line (after the
 * optional timestamp) with RAM, and prints the CPU list and the GPU field.
 */
export function looksLikeTegrastatsLine(line: string): boolean {
  return /(?:^|\s)RAM \d+\/\d+(?:kB|MB|GB)(?=[\s(]|$)/.test(line) || (/(?:^|\s)(?:CPU|cpu) \[/.test(line) && /(?:^|\s)GR3D(?:_FREQ)? /.test(line));
}

/**
 * Parses tegrastats output. Lines that are not tegrastats reports (a shell prompt pasted along,
 * an error message) are skipped with a warning; throws when no line is one at all.
 */
export function parseTegrastats(input: string): TegrastatsOutput {
  const text = input.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error(`not tegrastats output: the input is empty; ${EXPECTED}`);
  const samples: ParsedSample[] = [];
  const warnings: string[] = [];
  lines.forEach((line, i) => {
    if (!looksLikeTegrastatsLine(line)) {
      warnings.push(`line ${i + 1}: not a tegrastats report, skipped: ${JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line)}`);
      return;
    }
    const parsed = parseTegrastatsLine(line);
    samples.push({ t: parsed.t, m: parsed.m });
    for (const w of parsed.warnings) warnings.push(`line ${i + 1}: ${w}`);
  });
  if (samples.length === 0) {
    const first = lines[0]!.trim();
    throw new Error(`not tegrastats output: the text starts with ${JSON.stringify(first.length > 60 ? `${first.slice(0, 60)}…` : first)}; ${EXPECTED}`);
  }
  return { tool: 'tegrastats', format: 'tegrastats', samples, warnings };
}
