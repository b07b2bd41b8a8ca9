import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { createLogger } from '../../shared/log.js';
import { EDGEWATCH_VERSION } from '../../shared/version.js';
import { parsePort, untilSignalled } from '../options.js';

export function hubCommand(): Command {
  return new Command('hub')
    .description('run the hub: stores samples in SQLite and serves the dashboard, the REST API and the agent endpoint')
    .addOption(new Option('--port <port>', 'TCP port').env('EDGEWATCH_PORT').default(8080).argParser(parsePort))
    .addOption(new Option('--host <address>', 'address to listen on (0.0.0.0 = every interface, so agents on the LAN can connect)').env('EDGEWATCH_HOST').default('0.0.0.0'))
    .addOption(new Option('--data <dir>', 'data directory (SQLite database)').env('EDGEWATCH_DATA').default('./data'))
    .addOption(new Option('--log-level <level>', 'fatal, error, warn, info, debug or trace').env('EDGEWATCH_LOG_LEVEL').default('info'))
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
