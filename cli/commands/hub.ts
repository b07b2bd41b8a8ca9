import { Command } from 'commander';
import { resolve } from 'node:path';
import { createLogger } from '../../shared/log.js';
import { EDGEWATCH_VERSION } from '../../shared/version.js';
import { dataOption, hostOption, logLevelOption, portOption, untilSignalled } from '../options.js';

export function hubCommand(): Command {
  return new Command('hub')
    .description('run the hub: stores samples in SQLite and serves the dashboard, the REST API and the agent endpoint')
    .addOption(portOption())
    .addOption(hostOption('0.0.0.0', '0.0.0.0 = every interface, so agents on the LAN can connect'))
    .addOption(dataOption('SQLite database'))
    .addOption(logLevelOption())
    .action(async (opts: { port: number; host: string; data: string; logLevel: string }) => {
      const log = createLogger('hub', opts.logLevel);
      // Loaded on demand: `edgewatch agent` never pays for Express and SQLite.
      const { startHub } = await import('../../dashboard/server/hub.js');
      const hub = await startHub({ port: opts.port, host: opts.host, dataDir: resolve(opts.data), log, version: EDGEWATCH_VERSION });
      const signal = await untilSignalled();
      log.info({ signal }, 'stopping');
      await hub.close();
    });
}
