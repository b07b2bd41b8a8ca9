// Runs the store's maintenance (sealing, rollups, retention, size cap, vacuum) off the ingest
// path: a short pass every few seconds, and back-to-back passes, a tick apart, while there is
// a backlog, so ingest and API requests interleave with a long catch-up.
import type { Logger } from '../../shared/log.js';
import { sqliteCode, type Store } from '../store/store.js';

export interface MaintenanceLoop {
  stop(): void;
}

/** Per-pass time budget: long enough to seal a window, short enough not to stall requests. */
const PASS_BUDGET_MS = 50;

export function startMaintenance(store: Store, log: Logger, everyMs: number): MaintenanceLoop {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let failing: string | null = null;
  const run = (): void => {
    timer = null;
    if (stopped) return;
    let more = false;
    try {
      const r = store.maintain(Date.now(), PASS_BUDGET_MS);
      more = r.more;
      if (r.pruned > 0 || r.vacuumedPages > 0) log.debug({ ...r }, 'storage maintenance');
      if (failing) log.info('storage maintenance works again');
      failing = null;
    } catch (err) {
      // A full or read-only disk: ingest reports it too; say it here once, retry at the normal pace.
      const code = sqliteCode(err) ?? 'error';
      if (failing !== code) log.warn({ err, code }, 'storage maintenance failed; unsealed samples stay in raw_head and are retried');
      failing = code;
    }
    timer = setTimeout(run, more ? 1 : everyMs);
    timer.unref();
  };
  timer = setTimeout(run, Math.min(everyMs, 1000));
  timer.unref();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
