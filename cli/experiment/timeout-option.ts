// The hub's experiment timeout (dashboard/server/experiment-timeout.ts), shared by `hub` and
// `start`: how long a running experiment may go without its agent before the hub closes it.
import { Option } from 'commander';
import { parsePositiveDuration } from '../options.js';

export function experimentTimeoutOption(): Option {
  return new Option(
    '--experiment-timeout <duration>',
    'close a running experiment as "ended by timeout" when its device sends nothing for this long, or its agent no longer has it open (e.g. 30m, 1h)',
  )
    .env('EDGEWATCH_EXPERIMENT_TIMEOUT')
    .default(3_600_000, '1h')
    .argParser(parsePositiveDuration);
}
