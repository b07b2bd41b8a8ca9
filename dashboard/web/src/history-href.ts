// Device-page hashes for the history view: a preset (`?range=1h`, as router.ts writes them) or a
// fixed window (`?from=<ms>&to=<ms>`, plus `&vs=<ms>` when another range is compared), so a
// copied link reproduces the view.
import { windowQuery, type TimeWindow } from './history-range.js';
import { deviceHref, type RangeKey } from './router.js';

export type DeviceView = { range: RangeKey; window?: TimeWindow | null; vs?: number | null };

export function historyHref(id: string, view: DeviceView): string {
  if (!view.window) return deviceHref(id, view.range);
  return `${deviceHref(id)}?${windowQuery(view.window, view.vs)}`;
}
