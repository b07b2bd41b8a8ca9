// The order of a bench's trials: interleaved (A B A B …), or shuffled within each round with a
// seeded generator so that `--seed` repeats an order.
import { mulberry32 } from '../../shared/trial-stats.js';

export interface Variant {
  name: string;
  command: string;
}


export interface PlannedTrial {
  /** 1-based position in the whole bench. */
  order: number;
  variant: Variant;
  /** 1-based repeat of this variant. */
  trial: number;
}

/** Round by round, every variant once per round: in the given order, or shuffled within each round. */
export function planTrials(variants: readonly Variant[], repeat: number, shuffle: { seed: number } | null): PlannedTrial[] {
  const rand = shuffle ? mulberry32(shuffle.seed) : null;
  const out: PlannedTrial[] = [];
  for (let k = 1; k <= repeat; k++) {
    const round = [...variants];
    if (rand) {
      for (let i = round.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [round[i], round[j]] = [round[j]!, round[i]!];
      }
    }
    for (const variant of round) out.push({ order: out.length + 1, variant, trial: k });
  }
  return out;
}
