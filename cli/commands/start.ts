import { Command, Option } from 'commander';
import { join, resolve } from 'node:path';
import { EDGEWATCH_VERSION } from '../../shared/version.js';
import { createLogger } from '../../shared/log.js';
import { parseDuration, parsePort, untilSignalled } from '../options.js';

export function startCommand(): Command {
  return new Command('start')
    .description('run a hub and an agent for this machine together (what `npm start` runs): the quickest way to see edgewatch')
    .addOption(new Option('--port <port>', 'TCP port').env('EDGEWATCH_PORT').default(8080).argParser(parsePort))
    .addOption(new Option('--host <address>', 'address to listen on (default: this machine only)').env('EDGEWATCH_HOST').default('127.0.0.1'))
    .addOption(new Option('--data <dir>', 'data directory (database and agent state)').env('EDGEWATCH_DATA').default('./data'))
    .addOption(new Option('--interval <duration>', 'sampling interval: 1s, 500ms').env('EDGEWATCH_INTERVAL').default(1000).argParser(parseDuration))
    .addOption(new Option('--log-level <level>', 'fatal, error, warn, info, debug or trace').env('EDGEWATCH_LOG_LEVEL').default('info'))
    .action(async (opts: { port: number; host: string; data: string; interval: number; logLevel: string }) => {
      const dataDir = resolve(opts.data);
      const [{ startHub, AGENT_PATH }, { startAgent }] = await Promise.all([import('../../dashboard/server/hub.js'), import('../../agent/agent.js')]);
      const hub = await startHub({ port: opts.port, host: opts.host, dataDir, log: createLogger('hub', opts.logLevel), version: EDGEWATCH_VERSION });
      const agentHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
      const agent = await startAgent({
        hubUrl: `ws://${agentHost.includes(':') ? `[${agentHost}]` : agentHost}:${hub.port}${AGENT_PATH}`,
        intervalMs: opts.interval,
        stateDir: join(dataDir, 'agent'),
        log: createLogger('agent', opts.logLevel),
      });
      process.stdout.write(`\nedgewatch is running: open ${hub.url} (data in ${dataDir}). Ctrl-C stops it.\n\n`);
      await untilSignalled();
      await agent.stop();
      await hub.close();
    });
}
