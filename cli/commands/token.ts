// `edgewatch token …` and `edgewatch admin-password`: credentials, managed on the hub machine
// against the hub's own database (SQLite in WAL mode: fine while the hub runs). A token's
// secret is printed once, at creation, and exists nowhere else: the database keeps its hash.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEVICE_ID_RE } from '../../shared/protocol.js';
import { dataOption } from '../options.js';

async function openCredentials(data: string, mustExist: boolean) {
  const dir = resolve(data);
  const [{ Store, DB_FILE_NAME }, { Credentials }] = await Promise.all([import('../../dashboard/store/store.js'), import('../../dashboard/server/auth/credentials.js')]);
  if (mustExist && !existsSync(join(dir, DB_FILE_NAME))) {
    throw new Error(`no hub database in ${dir}: pass the hub's --data directory (or set EDGEWATCH_DATA)`);
  }
  const store = Store.open(dir);
  return { dir, store, creds: new Credentials(store) };
}

const when = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

export function tokenCommand(): Command {
  const token = new Command('token').description('create, list and revoke device tokens (agents) and API tokens (scripts)');

  token
    .command('create')
    .description('create a device token for an agent; the token is printed once')
    .argument('<device-id>', "the agent's device id (its --id, or the id in its state directory); the token works for this id only")
    .addOption(dataOption('hub database'))
    .action(async (deviceId: string, opts: { data: string }, command: Command) => {
      if (!DEVICE_ID_RE.test(deviceId)) command.error(`error: device id ${JSON.stringify(deviceId)} is invalid: use 1–64 characters of [A-Za-z0-9_.-]`);
      const { store, creds } = await openCredentials(opts.data, false);
      try {
        const t = creds.createDeviceToken(deviceId);
        process.stdout.write(`${t.token}\n`);
        process.stderr.write(
          `device token ${t.id} for ${deviceId}. It is shown only now: give it to the agent with --token, EDGEWATCH_TOKEN or "token" in its config file.\n`,
        );
      } finally {
        store.close();
      }
    });

  token
    .command('create-api')
    .description('create an API token (for scripts: Authorization: Bearer ewa_…); printed once')
    .argument('<name>', 'what it is for, shown by `token list`')
    .addOption(dataOption('hub database'))
    .action(async (name: string, opts: { data: string }, command: Command) => {
      if (name.trim() === '' || name.length > 100) command.error('error: the name must be 1–100 characters');
      const { store, creds } = await openCredentials(opts.data, false);
      try {
        const t = creds.createApiToken(name.trim());
        process.stdout.write(`${t.token}\n`);
        process.stderr.write(`API token ${t.id} (${name.trim()}). It is shown only now: send it as Authorization: Bearer <token>.\n`);
      } finally {
        store.close();
      }
    });

  token
    .command('list')
    .description('list tokens: id, kind, device or name, created, last used, revoked (never their secrets)')
    .addOption(dataOption('hub database'))
    .option('--json', 'as JSON')
    .action(async (opts: { data: string; json?: boolean }) => {
      const { store, creds } = await openCredentials(opts.data, true);
      try {
        const rows = creds.listTokens();
        if (opts.json) {
          process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
          return;
        }
        const table = [
          ['ID', 'KIND', 'DEVICE/NAME', 'CREATED', 'LAST USED', 'REVOKED'],
          ...rows.map((r) => [r.id, r.kind, r.subject, when(r.createdAt), when(r.lastUsedAt), when(r.revokedAt)]),
        ];
        const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
        process.stdout.write(table.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
        if (rows.length === 0) process.stdout.write('(no tokens yet: edgewatch token create <device-id>)\n');
      } finally {
        store.close();
      }
    });

  token
    .command('revoke')
    .description('revoke a token by id: a connected agent using it is disconnected within seconds')
    .argument('<id>', 'the token id (12 hex characters, as `token list` shows, or the ewd_<id>_… prefix)')
    .addOption(dataOption('hub database'))
    .action(async (raw: string, opts: { data: string }, command: Command) => {
      const id = /^ew[da]_([0-9a-f]{12})(_|$)/.exec(raw)?.[1] ?? raw;
      if (!/^[0-9a-f]{12}$/.test(id)) command.error(`error: ${JSON.stringify(raw)} is not a token id: 12 hex characters, as \`edgewatch token list\` shows`);
      const { store, creds } = await openCredentials(opts.data, true);
      let outcome: ReturnType<typeof creds.revokeToken>;
      try {
        outcome = creds.revokeToken(id);
      } finally {
        store.close();
      }
      if (outcome === 'unknown') command.error(`error: no token with id ${id} (see \`edgewatch token list\`)`);
      process.stdout.write(outcome === 'revoked' ? `revoked ${id}\n` : `${id} was already revoked\n`);
    });

  return token;
}

export function adminPasswordCommand(): Command {
  return new Command('admin-password')
    .description('set a new random password for the dashboard user admin (and log out its sessions); printed once')
    .addOption(dataOption('hub database'))
    .action(async (opts: { data: string }) => {
      const { store, creds } = await openCredentials(opts.data, false);
      try {
        const { user, password } = await creds.resetPassword();
        process.stdout.write(`login: user ${user}, password ${password}\n`);
      } finally {
        store.close();
      }
    });
}
