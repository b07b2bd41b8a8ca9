// The agent's side of an attached `edgewatch top`: keeps references to what the sampler already
// produced (the newest sample, the newest process table, experiments still open) so that
// GET /v1/top answers without sampling anything. record() runs once per tick and costs a few
// property writes; the experiments map only changes when a sample carries experiment events.
import { metricSegment } from '../../shared/catalog.js';
import type { Inventory, ProcessTable, Sample } from '../../shared/protocol.js';
import type { TopExperiment, TopSnapshot } from './snapshot.js';

/** Open experiments kept at most; the aggregator bounds them too, this only guards the map. */
const MAX_OPEN = 64;
const MAX_MODEL_NAMES = 200;

export interface TopStatic {
  device: { id?: string; name: string; hostname: string };
  agentVersion: string;
  intervalMs: number;
  processIntervalMs: number;
  capabilities: readonly string[];
  inventory: Inventory;
}

export class TopLiveState {
  private facts: TopStatic;
  private sample: Sample | null = null;
  private table: (ProcessTable & { t: number }) | null = null;
  private readonly open = new Map<string, TopExperiment>();
  private readonly modelNames: Record<string, string> = {};
  private modelCount = 0;

  constructor(facts: TopStatic) {
    this.facts = facts;
  }

  /** Capabilities and inventory are known only once collectors have been detected. */
  update(facts: Partial<TopStatic>): void {
    this.facts = { ...this.facts, ...facts };
  }

  record(sample: Sample): void {
    // A tick that drained only histograms has no values: keep the previous ones on screen.
    if (Object.keys(sample.m).length > 0) this.sample = sample;
    if (sample.p) this.table = { ...sample.p, t: sample.t };
    if (sample.i) {
      for (const a of sample.i) {
        const segment = metricSegment(a.model);
        if (this.modelNames[segment] === undefined && this.modelCount >= MAX_MODEL_NAMES) continue;
        if (this.modelNames[segment] === undefined) this.modelCount++;
        this.modelNames[segment] = a.model;
      }
    }
    if (sample.e) {
      for (const e of sample.e) {
        if (e.end !== undefined && e.end !== null) this.open.delete(e.id);
        else if (!this.open.has(e.id) && this.open.size < MAX_OPEN) this.open.set(e.id, { id: e.id, name: e.name, start: e.start });
      }
    }
  }

  snapshot(): TopSnapshot {
    return {
      ...this.facts,
      sample: this.sample ? { t: this.sample.t, m: this.sample.m } : null,
      processes: this.table,
      modelNames: this.modelNames,
      experiments: [...this.open.values()],
    };
  }
}
