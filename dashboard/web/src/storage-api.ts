// The REST call of the storage page; series come from api.ts's getSeries, which reports the tier.
import type { StorageResponse } from '../../../shared/live.js';
import { getJson } from './api.js';

/** GET /api/v1/storage: the database's size, retention, and bytes per device and tier. */
export function getStorage(signal?: AbortSignal): Promise<StorageResponse> {
  return getJson('api/v1/storage', signal);
}
