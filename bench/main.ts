// `npm run bench`: measures, prints a table, asserts nothing. The machines are shared and
// noisy, so each figure is a median over several windows, with a baseline measured in the
// same run where one makes sense.
//
//   node dist/bench.mjs [--quick] [--only agent|ingest|load|backfill|history|inference|storage|remote-write|top]
import { parseArgs } from 'node:util';
import { agentCostBench } from './agent-cost.js';
import { backfillBench } from './backfill.js';
import { historyQueryBench } from './history-query.js';
import { inferenceBench } from './inference.js';
import { hubIngestBench } from './hub-ingest.js';
import { hubLoadBench } from './hub-load.js';
import { measureProcessTable } from './process-table.js';
import { samplingCostBench } from './sampling-cost.js';
import { storageBench } from './storage.js';
import { printTable, type BenchRow } from './report.js';
import { remoteWriteBench } from './remote-write.js';
import { topCostBench } from './top-cost.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});

const rows: BenchRow[] = [];
const quick = values.quick ?? false;
if (!values.only || values.only === 'agent') {
  rows.push(...(await samplingCostBench()));
  const table = await measureProcessTable({ iterations: 50 });
  rows.push({
    benchmark: 'one process-table sample (top 10 by CPU and by memory)',
    result: `${(table.medianUs / 1000).toFixed(2)} ms (p90 ${(table.p90Us / 1000).toFixed(2)} ms)`,
    how: `${table.processes} processes in /proc, 50 samples after warm-up; taken every 5 s by default`,
  });
  rows.push(...(await agentCostBench({ seconds: quick ? 20 : 60 })));
}
if (!values.only || values.only === 'ingest') rows.push(...(await hubIngestBench({ agents: 100, rounds: quick ? 2 : 3, seconds: quick ? 3 : 5 })));
if (!values.only || values.only === 'load') rows.push(...(await hubLoadBench({ agents: 500, seconds: quick ? 20 : 120 })));
if (!values.only || values.only === 'backfill') rows.push(...(await backfillBench({ batches: quick ? 600 : 3600 })));
if (!values.only || values.only === 'history') rows.push(...historyQueryBench({ days: quick ? 2 : 7 }));
if (!values.only || values.only === 'inference') rows.push(...(await inferenceBench({ quick })));
if (!values.only || values.only === 'storage') rows.push(...storageBench({ quick }));
if (!values.only || values.only === 'remote-write') rows.push(...(await remoteWriteBench({ quick })));
if (!values.only || values.only === 'top') rows.push(...(await topCostBench({ quick })));
printTable(rows);
