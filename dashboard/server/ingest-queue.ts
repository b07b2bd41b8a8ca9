// Group commit: batches that arrive in the same event-loop turn, from any number of agents,
// are written in one SQLite transaction (one fsync), and each caller learns the outcome
// only after that transaction has committed. That is what makes "ack after commit" cheap
// at 100 agents.
import type { Logger } from '../../shared/log.js';
import type { BatchToCommit, CommitOutcome, Store } from '../store/store.js';

interface Pending {
  item: BatchToCommit;
  resolve: (outcome: CommitOutcome) => void;
  reject: (err: Error) => void;
}

export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

export class IngestQueue {
  private pending: Pending[] = [];
  private scheduled = false;
  private failing = false;
  /** Batches committed since start (duplicates excluded), for /healthz and benchmarks. */
  committedBatches = 0;
  committedSamples = 0;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly maxPerTransaction = 1000,
  ) {}

  /** Resolves once the batch is committed (or recognised as already committed). */
  submit(item: BatchToCommit): Promise<CommitOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** True while the last write failed (disk full, read-only): the hub is not acking. */
  get writesFailing(): boolean {
    return this.failing;
  }

  private flush(): void {
    this.scheduled = false;
    while (this.pending.length > 0) {
      const group = this.pending.splice(0, this.maxPerTransaction);
      let outcomes: CommitOutcome[];
      try {
        outcomes = this.store.commitBatches(group.map((p) => p.item));
      } catch (err) {
        // Nothing of this group was stored (the transaction rolled back). The agents keep
        // these batches and resend them; we only have to say so loudly.
        if (!this.failing) this.log.error({ err, batches: group.length }, 'SQLite write failed: not acking; agents will resend');
        this.failing = true;
        const error = new StoreUnavailableError(`the hub could not write to its database: ${(err as Error).message}`);
        for (const p of group) p.reject(error);
        continue;
      }
      if (this.failing) this.log.warn('SQLite writes work again: acking resumes');
      this.failing = false;
      group.forEach((p, i) => {
        const outcome = outcomes[i]!;
        if (outcome.stored) {
          this.committedBatches++;
          this.committedSamples += p.item.samples.length;
        }
        p.resolve(outcome);
      });
    }
  }
}
