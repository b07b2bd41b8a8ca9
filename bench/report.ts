export interface BenchRow {
  benchmark: string;
  result: string;
  /** How it was measured: enough to rerun it by hand. */
  how: string;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function printTable(rows: readonly BenchRow[]): void {
  const header: BenchRow = { benchmark: 'benchmark', result: 'result (median)', how: 'how' };
  const widths = (['benchmark', 'result', 'how'] as const).map((k) => Math.max(...[header, ...rows].map((r) => r[k].length)));
  const line = (r: BenchRow) => `| ${r.benchmark.padEnd(widths[0]!)} | ${r.result.padEnd(widths[1]!)} | ${r.how.padEnd(widths[2]!)} |`;
  const out = [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
  process.stdout.write(`\n${out.join('\n')}\n\n`);
}
