import { Command } from 'commander';
import { join, resolve } from 'node:path';
import { EDGEWATCH_VERSION } from '../../shared/version.js';
import { createLogger } from '../../shared/log.js';
import { dataOption, hostOption, inferencePortOption, intervalOption, logLevelOption, portOption, untilSignalled } from '../options.js';

export function startCommand(): Command {
  return new Command('start')
    .description('run a hub and an agent for this machine together (what `npm start` runs): the quickest way to see edgewatch')
    .addOption(portOption())
    .addOption(hostOption('127.0.0.1', 'this machine only'))
    .addOption(dataOption('database and agent state'))
    .addOption(intervalOption())
    .addOption(inferencePortOption())
    .addOption(logLevelOption())
    .action(async (opts: { port: number; host: string; data: string; interval: number; inferencePort: number; logLevel: string }) => {
      const dataDir = resolve(opts.data);
      const [{ startHub }, { startAgent }] = await Promise.all([import('../../dashboard/server/hub.js'), import('../../agent/agent.js')]);
      const hub = await startHub({ port: opts.port, host: opts.host, dataDir, log: createLogger('hub', opts.logLevel), version: EDGEWATCH_VERSION });
      const agent = await startAgent({
        hubUrl: hub.agentUrl,
        intervalMs: opts.interval,
        stateDir: join(dataDir, 'agent'),
        // Loopback whatever --host says: --host opens the dashboard, not the timing door.
        inferencePort: opts.inferencePort === 0 ? null : opts.inferencePort,
        inferenceHost: '127.0.0.1',
        log: createLogger('agent', opts.logLevel),
      });
      process.stdout.write(`\nedgewatch is running: open ${hub.url} (data in ${dataDir}). Ctrl-C stops it.\n\n`);
      await untilSignalled();
      await agent.stop();
      await hub.close();
    });
}
