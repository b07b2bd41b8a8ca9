// Inference models as top shows them. A sample holds infer.<model>.* only for the seconds in
// which the model was called, so the tracker remembers each model's last figures for a minute:
// a model that paused for a second does not blink off the screen.
import type { TopSnapshot } from './snapshot.js';

export interface ModelStat {
  readonly model: string;
  readonly rate: number | undefined;
  readonly p50: number | undefined;
  readonly p99: number | undefined;
  /** Sample time the figures are from. */
  readonly t: number;
}

const KEEP_MS = 60_000;
const MAX_MODELS = 200;
const INFER = /^infer\.([a-z0-9_]+)\.(rate|latency\.p50|latency\.p99)$/;

export class ModelTracker {
  private readonly models = new Map<string, { rate?: number; p50?: number; p99?: number; t: number }>();
  private lastT = -1;

  update(snapshot: TopSnapshot): void {
    const sample = snapshot.sample;
    if (!sample || sample.t === this.lastT) return;
    this.lastT = sample.t;
    const fresh = new Map<string, { rate?: number; p50?: number; p99?: number; t: number }>();
    for (const [name, value] of Object.entries(sample.m)) {
      const m = INFER.exec(name);
      if (!m) continue;
      let entry = fresh.get(m[1]!);
      if (!entry) fresh.set(m[1]!, (entry = { t: sample.t }));
      if (m[2] === 'rate') entry.rate = value;
      else if (m[2] === 'latency.p50') entry.p50 = value;
      else entry.p99 = value;
    }
    for (const [model, entry] of fresh) if (this.models.has(model) || this.models.size < MAX_MODELS) this.models.set(model, entry);
    for (const [model, entry] of this.models) if (sample.t - entry.t > KEEP_MS) this.models.delete(model);
  }

  /** Models seen in the last minute, busiest first; a model not called in the newest sample shows 0 calls/s. */
  rows(): ModelStat[] {
    return [...this.models.entries()]
      .map(([model, e]) => ({ model, rate: e.t === this.lastT ? e.rate : 0, p50: e.p50, p99: e.p99, t: e.t }))
      .sort((a, b) => (b.rate ?? 0) - (a.rate ?? 0) || a.model.localeCompare(b.model));
  }
}
