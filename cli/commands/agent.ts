import { Command, Option } from 'commander';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger } from '../../shared/log.js';
import { intervalOption, logLevelOption, parsePositiveInt, untilSignalled } from '../options.js';

function defaultStateDir(): string {
  const base = process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state');
  return join(base, 'edgewatch');
}

export function agentCommand(): Command {
  return new Command('agent')
    .description('run the agent on this device: sample metrics and stream them to a hub')
    .addOption(new Option('--hub <url>', 'hub agent endpoint, e.g. ws://hub.local:8080/ws/agent (required)').env('EDGEWATCH_HUB'))
    .addOption(new Option('--name <name>', 'device name shown in the dashboard (default: host name)').env('EDGEWATCH_NAME'))
    .addOption(new Option('--id <id>', 'stable device id (default: generated once, kept in the state directory)').env('EDGEWATCH_DEVICE_ID'))
    .addOption(intervalOption())
    .addOption(new Option('--state-dir <dir>', 'where the device id and sequence state live').env('EDGEWATCH_STATE_DIR').default(defaultStateDir()))
    .addOption(new Option('--buffer <samples>', 'samples kept while the hub is unreachable').env('EDGEWATCH_BUFFER').default(3600).argParser(parsePositiveInt))
    .addOption(new Option('--proc-root <dir>', 'where /proc is (a container sees the host at e.g. /host/proc)').env('EDGEWATCH_PROC_ROOT').default('/proc'))
    .addOption(new Option('--sys-root <dir>', 'where /sys is').env('EDGEWATCH_SYS_ROOT').default('/sys'))
    .addOption(new Option('--host-root <dir>', "prefix of the host's mount points, for filesystem usage").env('EDGEWATCH_HOST_ROOT').default('/'))
    .addOption(logLevelOption())
    .action(async (opts: AgentCliOptions, command: Command) => {
      // Checked here rather than by commander so that subcommands of the standalone agent
      // (`edgewatch-agent parse …`) do not need a hub.
      if (!opts.hub) command.error('error: the agent needs a hub: pass --hub ws://<hub-host>:8080/ws/agent or set EDGEWATCH_HUB');
      const log = createLogger('agent', opts.logLevel);
      const { startAgent } = await import('../../agent/agent.js');
      const agent = await startAgent({
        hubUrl: opts.hub!,
        name: opts.name,
        deviceId: opts.id,
        intervalMs: opts.interval,
        stateDir: resolve(opts.stateDir),
        maxBufferedSamples: opts.buffer,
        procRoot: opts.procRoot,
        sysRoot: opts.sysRoot,
        hostRoot: opts.hostRoot,
        log,
      });
      const signal = await untilSignalled();
      log.info({ signal }, 'stopping');
      await agent.stop();
    });
}

interface AgentCliOptions {
  hub?: string;
  name?: string;
  id?: string;
  interval: number;
  stateDir: string;
  buffer: number;
  procRoot: string;
  sysRoot: string;
  hostRoot: string;
  logLevel: string;
}
