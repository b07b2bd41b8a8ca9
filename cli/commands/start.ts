import { Command } from 'commander';
import { join, resolve } from 'node:path';
import { EDGEWATCH_VERSION } from '../../shared/version.js';
import { resolveLogFormat } from '../../shared/log.js';
import { ADMIN_NOT_KEPT, forgetUnshownAdmin, listenHost, loginLine, noAuthOption, noAuthWarning } from '../auth-options.js';
import { localAgentToken } from '../local-agent-token.js';
import { createCliLogger, dataOption, ensureWritableDir, hostOption, inferencePortOption, intervalOption, logOptions, portOption, runningBlock, retentionFrom, withRetentionOptions, untilSignalled, type LogCliOptions, type RetentionCliOptions } from '../options.js';
import { experimentTimeoutOption } from '../experiment/timeout-option.js';
import { remoteWriteFrom, withRemoteWriteOptions, type RemoteWriteCliOptions } from '../remote-write-options.js';

export function startCommand(): Command {
  const command = new Command('start')
    .description('run a hub and an agent for this machine together (what `npm start` runs): the quickest way to see edgewatch')
    .addOption(portOption())
    .addOption(hostOption('127.0.0.1', 'this machine only'))
    .addOption(dataOption('database and agent state'))
    .addOption(noAuthOption())
    .addOption(intervalOption())
    .addOption(inferencePortOption())
    .addOption(experimentTimeoutOption());
  return withRemoteWriteOptions(withRetentionOptions(logOptions(command))).action(async (opts: { port: number; host: string; data: string; interval: number; inferencePort: number; auth: boolean; experimentTimeout: number } & LogCliOptions & RetentionCliOptions & RemoteWriteCliOptions, command: Command) => {
    const dataDir = resolve(opts.data);
    try {
      ensureWritableDir(dataDir, '--data', 'EDGEWATCH_DATA');
    } catch (err) {
      command.error(`error: ${(err as Error).message}`);
    }
    const hubLog = createCliLogger(opts, 'hub');
    const host = listenHost(command, opts);
    const [{ startHub }, { startAgent }, { AgentState }] = await Promise.all([
      import('../../dashboard/server/hub.js'),
      import('../../agent/agent.js'),
      import('../../agent/state.js'),
    ]);
    // The hub creates the admin user before it listens; its password is printed below, once
    // the agent runs too. A start that fails before then deletes that user again, so that the
    // next start prints a new password, rather than keep one nobody saw.
    const startedAt = Date.now();
    const failed = async (err: unknown): Promise<never> => {
      if (opts.auth && (await forgetUnshownAdmin(dataDir, startedAt)) && err instanceof Error) err.message += `\nedgewatch: ${ADMIN_NOT_KEPT}`;
      throw err;
    };
    const hub = await startHub({ port: opts.port, host, dataDir, log: hubLog, version: EDGEWATCH_VERSION, auth: opts.auth, store: { retention: retentionFrom(opts) }, experimentTimeoutMs: opts.experimentTimeout, ...remoteWriteFrom(opts, command) }).catch(failed);
    let agent: Awaited<ReturnType<typeof startAgent>>;
    try {
      const stateDir = join(dataDir, 'agent');
      // The local agent is enrolled without any manual step: a token for its own device id.
      // Loaded once and handed to the agent: on a state dir that cannot be written, a second load
      // would generate another id than the one the token is bound to.
      const deviceId = AgentState.load(stateDir).deviceId;
      const token = opts.auth ? localAgentToken(hub.store, stateDir, deviceId) : undefined;
      agent = await startAgent({
        hubUrl: hub.agentUrl,
        ...(token ? { token } : {}),
        deviceId,
        intervalMs: opts.interval,
        stateDir,
        // Loopback whatever --host says: --host opens the dashboard, not the timing door.
        inferencePort: opts.inferencePort === 0 ? null : opts.inferencePort,
        inferenceHost: '127.0.0.1',
        log: createCliLogger(opts, 'agent'),
      });
    } catch (err) {
      await hub.close();
      return failed(err);
    }
    // Printed last, once the local agent's first connection is logged (or 3 s have gone by),
    // so that the URL and the login are not scrolled away by the log lines of start-up.
    for (let i = 0; i < 30 && !agent.connection.connected; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 50));
    // The password is on stdout this once (first start), never in the log.
    const access = opts.auth ? loginLine(hub.initialLogin, dataDir) : noAuthWarning();
    if (resolveLogFormat(opts.logFormat) === 'json') hubLog.info({ url: hub.url, dataDir, auth: opts.auth, ...(opts.auth ? { user: 'admin', passwordShown: Boolean(hub.initialLogin) } : {}) }, 'edgewatch is running');
    process.stdout.write(runningBlock([`edgewatch is running: open ${hub.url} (data in ${dataDir}). Ctrl-C stops it.`, access]));
    await untilSignalled();
    await agent.stop();
    await hub.close();
  });
}
