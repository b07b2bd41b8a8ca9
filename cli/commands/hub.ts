import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveLogFormat } from '../../shared/log.js';
import { EDGEWATCH_VERSION } from '../../shared/version.js';
import { ADMIN_NOT_KEPT, forgetUnshownAdmin, listenHost, loginLine, noAuthOption, noAuthWarning } from '../auth-options.js';
import { createCliLogger, dataOption, ensureWritableDir, hostOption, logOptions, portOption, runningBlock, retentionFrom, withRetentionOptions, untilSignalled, type LogCliOptions, type RetentionCliOptions } from '../options.js';
import { experimentTimeoutOption } from '../experiment/timeout-option.js';
import { remoteWriteFrom, withRemoteWriteOptions, type RemoteWriteCliOptions } from '../remote-write-options.js';

interface HubCliOptions extends RetentionCliOptions, RemoteWriteCliOptions, LogCliOptions {
  port: number;
  host: string;
  data: string;
  /** false with --no-auth. */
  auth: boolean;
  tlsCert?: string;
  tlsKey?: string;
  experimentTimeout: number;
}

export function hubCommand(): Command {
  const command = new Command('hub')
    .description('run the hub: stores samples in SQLite and serves the dashboard, the REST API and the agent endpoint')
    .addOption(portOption())
    .addOption(hostOption('0.0.0.0', '0.0.0.0 = every interface, so agents on the LAN can connect'))
    .addOption(dataOption('SQLite database'))
    .addOption(noAuthOption())
    .addOption(new Option('--tls-cert <file>', 'serve HTTPS and wss:// with this PEM certificate (chain); needs --tls-key').env('EDGEWATCH_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'PEM private key of --tls-cert').env('EDGEWATCH_TLS_KEY'))
    .addOption(experimentTimeoutOption());
  return withRemoteWriteOptions(withRetentionOptions(logOptions(command))).action(async (opts: HubCliOptions, command: Command) => {
    const tls = readTlsFiles(opts, command);
    const remoteWrite = remoteWriteFrom(opts, command);
    const host = listenHost(command, opts);
    try {
      ensureWritableDir(resolve(opts.data), '--data', 'EDGEWATCH_DATA');
    } catch (err) {
      command.error(`error: ${(err as Error).message}`);
    }
    const log = createCliLogger(opts, 'hub');
    // Loaded on demand: `edgewatch agent` never pays for Express and SQLite.
    const { startHub } = await import('../../dashboard/server/hub.js');
    const startedAt = Date.now();
    let hub;
    try {
      hub = await startHub({ port: opts.port, host, dataDir: resolve(opts.data), log, version: EDGEWATCH_VERSION, auth: opts.auth, store: { retention: retentionFrom(opts) }, experimentTimeoutMs: opts.experimentTimeout, ...(tls ? { tls } : {}), ...remoteWrite });
    } catch (err) {
      // It may have created the admin user before failing to listen: its password was never shown.
      if (opts.auth && (await forgetUnshownAdmin(resolve(opts.data), startedAt))) (err as Error).message += `\nedgewatch: ${ADMIN_NOT_KEPT}`;
      // A certificate/key pair that cannot be used is the operator's to fix: say so plainly.
      if (tls && /TLS certificate and key/.test((err as Error).message)) command.error(`error: ${(err as Error).message}`);
      throw err;
    }
    // On stdout, not in the log: the password is shown this once. A person at a terminal also
    // gets the URLs set apart from the log lines; JSON logs have them in "hub listening".
    if (resolveLogFormat(opts.logFormat) === 'pretty') process.stdout.write(runningBlock([`edgewatch hub is running: open ${hub.url}; agents connect to ${hub.agentUrl}. Ctrl-C stops it.`]).slice(0, -1));
    if (!opts.auth) process.stdout.write(`${noAuthWarning()}\n`);
    else if (hub.initialLogin) {
      process.stdout.write(runningBlock([loginLine(hub.initialLogin, resolve(opts.data)), `(shown once; agents need a token: edgewatch token create <device-id> --data ${resolve(opts.data)})`]));
    }
    const signal = await untilSignalled();
    log.info({ signal }, 'stopping');
    await hub.close();
  });
}

/** Both files or neither; each read once, here, so a wrong path fails at startup naming the file. */
function readTlsFiles(opts: HubCliOptions, command: Command): { cert: Buffer; key: Buffer } | undefined {
  if (opts.tlsCert === undefined && opts.tlsKey === undefined) return undefined;
  if (opts.tlsKey === undefined) command.error('error: --tls-cert needs --tls-key (or EDGEWATCH_TLS_KEY): the private key of the certificate');
  if (opts.tlsCert === undefined) command.error('error: --tls-key needs --tls-cert (or EDGEWATCH_TLS_CERT): the certificate of the key');
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      return command.error(`error: cannot read ${flag} file ${file}: ${(err as Error).message}`);
    }
  };
  return { cert: read('--tls-cert', opts.tlsCert!), key: read('--tls-key', opts.tlsKey!) };
}
