import { Command } from 'commander';
import { join, resolve } from 'node:path';
import { EDGEWATCH_VERSION } from '../../shared/version.js';
import { createLogger } from '../../shared/log.js';
import { listenHost, loginLine, noAuthOption, noAuthWarning } from '../auth-options.js';
import { localAgentToken } from '../local-agent-token.js';
import { dataOption, hostOption, inferencePortOption, intervalOption, logLevelOption, portOption, retentionFrom, withRetentionOptions, untilSignalled, type RetentionCliOptions } from '../options.js';

export function startCommand(): Command {
  const command = new Command('start')
    .description('run a hub and an agent for this machine together (what `npm start` runs): the quickest way to see edgewatch')
    .addOption(portOption())
    .addOption(hostOption('127.0.0.1', 'this machine only'))
    .addOption(dataOption('database and agent state'))
    .addOption(noAuthOption())
    .addOption(intervalOption())
    .addOption(inferencePortOption())
    .addOption(logLevelOption());
  return withRetentionOptions(command).action(async (opts: { port: number; host: string; data: string; interval: number; inferencePort: number; logLevel: string; auth: boolean } & RetentionCliOptions, command: Command) => {
    const dataDir = resolve(opts.data);
    const host = listenHost(command, opts);
    const [{ startHub }, { startAgent }, { AgentState }] = await Promise.all([
      import('../../dashboard/server/hub.js'),
      import('../../agent/agent.js'),
      import('../../agent/state.js'),
    ]);
    const hub = await startHub({ port: opts.port, host, dataDir, log: createLogger('hub', opts.logLevel), version: EDGEWATCH_VERSION, auth: opts.auth, store: { retention: retentionFrom(opts) } });
    const stateDir = join(dataDir, 'agent');
    // The local agent is enrolled without any manual step: a token for its own device id.
    const token = opts.auth ? localAgentToken(hub.store, stateDir, AgentState.load(stateDir).deviceId) : undefined;
    const agent = await startAgent({
      hubUrl: hub.agentUrl,
      ...(token ? { token } : {}),
      intervalMs: opts.interval,
      stateDir,
      // Loopback whatever --host says: --host opens the dashboard, not the timing door.
      inferencePort: opts.inferencePort === 0 ? null : opts.inferencePort,
      inferenceHost: '127.0.0.1',
      log: createLogger('agent', opts.logLevel),
    });
    // The password is on stdout this once (first start), never in the log.
    const access = opts.auth ? loginLine(hub.initialLogin, dataDir) : noAuthWarning();
    process.stdout.write(`\nedgewatch is running: open ${hub.url} (data in ${dataDir}). Ctrl-C stops it.\n${access}\n\n`);
    await untilSignalled();
    await agent.stop();
    await hub.close();
  });
}
