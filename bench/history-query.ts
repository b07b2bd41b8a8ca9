// History reads: one device with `days` of 1 Hz samples for 4 metrics in a real SQLite file,
// sealed into the compact tiers, then the query a chart makes (≤ 1000 points) over 24 h and
// over the whole range. Median of 5 runs each; the rollup tiers are what keep long ranges fast.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../dashboard/store/store.js';
import { PROTOCOL_VERSION } from '../shared/protocol.js';
import { median, type BenchRow } from './report.js';

const METRICS = ['cpu.util', 'mem.used', 'gpu.0.power', 'temp.cpu_thermal'];
const DAY_MS = 86_400_000;

export function historyQueryBench(opts: { days: number }): BenchRow[] {
  const dir = mkdtempSync(join(tmpdir(), 'edgewatch-bench-'));
  const store = Store.open(dir);
  try {
    const dev = store.upsertDevice({ type: 'hello', v: PROTOCOL_VERSION, device: { id: 'bench', name: 'bench' }, agent: { version: 'bench' }, intervalMs: 1000, capabilities: [], inventory: {}, clock: Date.now() }, Date.now());
    const t0 = Date.UTC(2026, 0, 1);
    const total = opts.days * 86_400;
    let seq = 1;
    const loadStart = performance.now();
    for (let i = 0; i < total; i += 600) {
      const samples = [];
      for (let j = i; j < Math.min(total, i + 600); j++) {
        const m: Record<string, number> = {};
        // Held to 2 decimals, as the agent sends them (shared/quantize.ts).
        METRICS.forEach((name, k) => (m[name] = Math.round((50 + 40 * Math.sin(j / (600 * (k + 1))) + Math.random()) * 100) / 100));
        samples.push({ t: t0 + j * 1000, m });
      }
      store.commitBatches([{ deviceNum: dev.num, seq: seq++, receivedAt: Date.now(), samples }]);
    }
    const loadS = (performance.now() - loadStart) / 1000;
    const sealStart = performance.now();
    store.sealAll();
    const sealS = (performance.now() - sealStart) / 1000;
    const end = t0 + total * 1000;
    const time = (span: number, tier: 'auto' | 'raw' = 'auto') =>
      median(
        Array.from({ length: 5 }, () => {
          const start = performance.now();
          store.series({ deviceNum: dev.num, deviceId: 'bench', metrics: METRICS, from: end - span, to: end, points: 1000, tier });
          return performance.now() - start;
        }),
      );
    const rows: BenchRow[] = [
      { benchmark: `history: 24 h chart, ${METRICS.length} metrics`, result: `${time(DAY_MS).toFixed(1)} ms`, how: `≤ 1000 points each from ${opts.days} d at 1 Hz in SQLite; median of 5` },
      { benchmark: `history: ${opts.days} d chart, ${METRICS.length} metrics`, result: `${time(opts.days * DAY_MS).toFixed(1)} ms`, how: 'same store, whole range (rollup tier)' },
      { benchmark: `history: ${opts.days} d chart from raw samples`, result: `${time(opts.days * DAY_MS, 'raw').toFixed(1)} ms`, how: 'same query decoding every raw sample instead: what it costs without the rollups' },
      {
        benchmark: 'history: bulk load, then seal',
        result: `${Math.round((total * METRICS.length) / loadS).toLocaleString('en')} values/s, seal ${Math.round((total * METRICS.length) / sealS).toLocaleString('en')} values/s`,
        how: `${(total * METRICS.length).toLocaleString('en')} values in 600-sample batches, then sealAll() into chunks and rollups`,
      },
    ];
    return rows;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
