// Authentication on the command line: --no-auth for `hub` and `start`, the loopback rule that
// goes with it, and how the first login is shown (on stdout, once; never in the log).
import { Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost'];

export function noAuthOption(): Option {
  return new Option('--no-auth', 'no logins or tokens (only with a loopback --host: anyone on this machine can then read and write)');
}

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.includes(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * The address to listen on. With auth off the default becomes 127.0.0.1 and any other
 * address is refused: an open hub must not be reachable from the network.
 */
export function listenHost(command: Command, opts: { host: string; auth: boolean }): string {
  if (opts.auth) return opts.host;
  const given = command.getOptionValueSource('host');
  if (given === undefined || given === 'default') return '127.0.0.1';
  if (!isLoopback(opts.host)) {
    command.error(
      `error: --no-auth needs a loopback --host (127.0.0.1, ::1 or localhost), not ${opts.host}: without authentication anyone who can reach the hub could read and write it. Keep auth on (create agent tokens with \`edgewatch token create <device-id>\`) to listen on the network.`,
    );
  }
  return opts.host;
}

export function noAuthWarning(): string {
  return 'warning: authentication is off (--no-auth): anyone on this machine can read and write the dashboard, the API and the agent endpoint';
}

/** The login line(s) `hub` and `start` print after starting. */
export function loginLine(initialLogin: { user: string; password: string } | undefined, dataDir: string): string {
  if (initialLogin) return `login: user ${initialLogin.user}, password ${initialLogin.password}`;
  return `login: user admin (password printed at first start; reset with: edgewatch admin-password --data ${dataDir})`;
}

/**
 * The hub creates the admin user when it opens its database, before it listens; `hub` and
 * `start` print the password only once everything runs. A start that fails in between (port
 * taken, an address this machine does not have, an agent option refused) would leave an
 * admin whose password nobody ever saw, and every later start would say it had been printed.
 * This undoes that: the admin user created since `since` in the database in `dataDir` is
 * deleted again, so that the next start that succeeds creates it and prints its password.
 * Best effort (false when nothing was undone): it must never hide the error of the start.
 */
export async function forgetUnshownAdmin(dataDir: string, since: number): Promise<boolean> {
  try {
    const [{ Store, DB_FILE_NAME }, { Credentials }] = await Promise.all([import('../dashboard/store/store.js'), import('../dashboard/server/auth/credentials.js')]);
    if (!existsSync(join(dataDir, DB_FILE_NAME))) return false;
    const store = Store.open(dataDir);
    try {
      return new Credentials(store).forgetUnshownAdmin(since);
    } finally {
      store.close();
    }
  } catch {
    return false;
  }
}

/** Said on stderr after forgetUnshownAdmin() undid the admin user of a failed start. */
export const ADMIN_NOT_KEPT = 'no dashboard login was kept from this attempt: the next start that succeeds creates the admin user and prints its password';
