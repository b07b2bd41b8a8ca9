// `edgewatch start` enrolls its own agent: a device token for the local device id, kept in
// <data>/agent/hub-token (mode 0600, beside the database it unlocks) and reused while it is
// valid, so restarts do not pile up tokens.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Credentials } from '../dashboard/server/auth/credentials.js';
import type { Store } from '../dashboard/store/store.js';

export const LOCAL_TOKEN_FILE = 'hub-token';

export function localAgentToken(store: Store, stateDir: string, deviceId: string): string {
  const creds = new Credentials(store);
  const file = join(stateDir, LOCAL_TOKEN_FILE);
  let kept: string | undefined;
  try {
    kept = readFileSync(file, 'utf8').trim();
  } catch {
    kept = undefined;
  }
  if (kept) {
    const check = creds.checkDeviceToken(kept);
    if (check.ok && check.deviceId === deviceId) return kept;
  }
  const { token } = creds.createDeviceToken(deviceId);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}
