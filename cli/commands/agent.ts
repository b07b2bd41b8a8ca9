import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROCESS_CMDLINE_MODES, type ProcessCmdlineMode } from '../../agent/processes/redact-cmdline.js';
import type { LogFormat } from '../../shared/log.js';
import { applyAgentConfig, DEFAULT_AGENT_CONFIG, describeEffectiveConfig, loadAgentConfig, splitList } from '../agent-config.js';
import { createCliLogger, inferencePortOption, intervalOption, logFormatOption, logLevelOption, parseDuration, parsePositiveDuration, parsePositiveInt, parseSize, untilSignalled } from '../options.js';

function defaultStateDir(): string {
  const base = process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state');
  return join(base, 'edgewatch');
}

export function agentCommand(): Command {
  return new Command('agent')
    .description('run the agent on this device: sample metrics and stream them to a hub')
    .addOption(new Option('--hub <url>', 'hub agent endpoint, e.g. ws://hub.local:8080/ws/agent (required)').env('EDGEWATCH_HUB'))
    .addOption(
      new Option('--ca <file>', "PEM certificate of a private CA that signed a wss:// hub's certificate (trusted beside the system CAs)").env('EDGEWATCH_CA'),
    )
    .addOption(
      new Option('--token <token>', 'device token (ewd_…) the hub requires; create one on the hub with `edgewatch token create <device-id>`').env('EDGEWATCH_TOKEN'),
    )
    .addOption(new Option('--name <name>', 'device name shown in the dashboard (default: host name)').env('EDGEWATCH_NAME'))
    .addOption(new Option('--id <id>', 'stable device id (default: generated once, kept in the state directory)').env('EDGEWATCH_DEVICE_ID'))
    .addOption(intervalOption())
    .addOption(new Option('--state-dir <dir>', 'where the device id and sequence state live').env('EDGEWATCH_STATE_DIR').default(defaultStateDir()))
    .addOption(
      new Option('--buffer <samples>', 'samples kept in memory while the hub is unreachable if the disk spool cannot be used')
        .env('EDGEWATCH_BUFFER')
        .default(3600)
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option('--spool-max <size>', 'disk kept for batches the hub has not acked (in <state-dir>/spool), e.g. 500MB or 2GB; the oldest are dropped beyond, and reported')
        .env('EDGEWATCH_SPOOL_MAX')
        .default(100_000_000, '100MB')
        .argParser(parseSize),
    )
    .addOption(
      new Option('--spool-max-age <duration>', 'spooled batches older than this are dropped unsent, and reported, e.g. 30d or 12h')
        .env('EDGEWATCH_SPOOL_MAX_AGE')
        .default(7 * 86_400_000, '7d')
        .argParser(parsePositiveDuration),
    )
    .addOption(new Option('--proc-root <dir>', 'where /proc is (a container sees the host at e.g. /host/proc)').env('EDGEWATCH_PROC_ROOT').default('/proc'))
    .addOption(new Option('--sys-root <dir>', 'where /sys is').env('EDGEWATCH_SYS_ROOT').default('/sys'))
    .addOption(new Option('--host-root <dir>', "prefix of the host's mount points, for filesystem usage").env('EDGEWATCH_HOST_ROOT').default('/'))
    .addOption(logLevelOption())
    .addOption(logFormatOption())
    .addOption(
      new Option('--process-interval <duration>', 'how often the top-process table is taken; 0 turns it off')
        .env('EDGEWATCH_PROCESS_INTERVAL')
        .default(5000, '5s')
        .argParser(parseDuration),
    )
    .addOption(new Option('--top-processes <n>', 'processes kept per table, by CPU and by memory').env('EDGEWATCH_TOP_PROCESSES').default(10).argParser(parsePositiveInt))
    .addOption(
      new Option('--process-cmdline <mode>', 'what the process table sends of each command line: full (secrets such as --password values masked), name (the executable only) or none')
        .env('EDGEWATCH_PROCESS_CMDLINE')
        .choices(PROCESS_CMDLINE_MODES)
        .default('full'),
    )
    .addOption(inferencePortOption())
    .addOption(
      new Option('--inference-host <address>', 'address the inference receiver listens on (127.0.0.1: code on this device only)')
        .env('EDGEWATCH_INFERENCE_HOST')
        .default('127.0.0.1'),
    )
    .addOption(new Option('--disable <collectors>', 'collectors to turn off, comma-separated (e.g. nvidia-gpu,filesystem)').env('EDGEWATCH_DISABLE').argParser(splitList))
    .addOption(new Option('--config <file>', `JSON config file with the same settings (flags and env win over it)`).env('EDGEWATCH_CONFIG'))
    .option('--print-config', 'print the effective settings as JSON (and where each came from, on stderr), then exit')
    .action(async (opts: AgentCliOptions, command: Command) => {
      try {
        applyAgentConfig(command, loadAgentConfig(opts.config ?? DEFAULT_AGENT_CONFIG, opts.config !== undefined));
      } catch (err) {
        command.error(`error: ${(err as Error).message}`);
      }
      opts = command.opts<AgentCliOptions>();
      if (opts.printConfig) {
        const { config, sources } = describeEffectiveConfig(command, CONFIG_KEYS);
        // The secret never goes to a terminal or a log: its id says which token it is.
        if (typeof config.token === 'string') config.token = redactToken(config.token);
        process.stdout.write(JSON.stringify(config, null, 2) + '\n');
        process.stderr.write(Object.entries(sources).map(([k, s]) => `${k}: ${s}`).join('\n') + '\n');
        return;
      }
      // Checked here rather than by commander so that subcommands of the standalone agent
      // (`edgewatch-agent parse …`) and --print-config do not need a hub.
      if (!opts.hub) command.error('error: the agent needs a hub: pass --hub ws://<hub-host>:8080/ws/agent, set EDGEWATCH_HUB, or put "hub" in the config file');
      const { COLLECTORS } = await import('../../agent/collectors/registry.js');
      const disabled = new Set(opts.disable ?? []);
      const known = new Set([...COLLECTORS.map((c) => c.name), 'processes']);
      const unknown = [...disabled].filter((n) => !known.has(n));
      if (unknown.length > 0) command.error(`error: --disable names unknown collectors ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
      const { startAgent, trustedCas } = await import('../../agent/agent.js');
      let ca: Buffer | undefined;
      if (opts.ca !== undefined) {
        // Read once, here: a wrong path fails at startup rather than at every reconnect.
        try {
          ca = readFileSync(opts.ca);
          trustedCas(ca);
        } catch (err) {
          command.error(`error: cannot use --ca file ${opts.ca}: ${(err as Error).message}`);
        }
      }
      const log = createCliLogger(opts, 'agent');
      const agent = await startAgent({
        hubUrl: opts.hub,
        name: opts.name,
        deviceId: opts.id,
        intervalMs: opts.interval,
        stateDir: resolve(opts.stateDir),
        maxBufferedSamples: opts.buffer,
        spoolMaxBytes: opts.spoolMax,
        spoolMaxAgeMs: opts.spoolMaxAge,
        procRoot: opts.procRoot,
        sysRoot: opts.sysRoot,
        hostRoot: opts.hostRoot,
        collectors: COLLECTORS.filter((c) => !disabled.has(c.name)),
        processIntervalMs: disabled.has('processes') ? 0 : opts.processInterval,
        topProcesses: opts.topProcesses,
        processCmdline: opts.processCmdline,
        // On the command line 0 means off, as for --process-interval; the API's 0 (any free
        // port) is for tests and embedding.
        inferencePort: opts.inferencePort === 0 ? null : opts.inferencePort,
        inferenceHost: opts.inferenceHost,
        ...(ca ? { ca } : {}),
        ...(opts.token ? { token: opts.token } : {}),
        log,
      });
      const signal = await untilSignalled();
      log.info({ signal }, 'stopping');
      await agent.stop();
    });
}

/** The settings --print-config shows and a config file may hold. */
const CONFIG_KEYS = [
  'hub',
  'ca',
  'token',
  'name',
  'id',
  'interval',
  'stateDir',
  'buffer',
  'spoolMax',
  'spoolMaxAge',
  'procRoot',
  'sysRoot',
  'hostRoot',
  'logLevel',
  'processInterval',
  'topProcesses',
  'processCmdline',
  'inferencePort',
  'inferenceHost',
  'disable',
] as const;

interface AgentCliOptions {
  hub?: string;
  ca?: string;
  token?: string;
  name?: string;
  id?: string;
  interval: number;
  stateDir: string;
  buffer: number;
  spoolMax: number;
  spoolMaxAge: number;
  procRoot: string;
  sysRoot: string;
  hostRoot: string;
  logLevel: string;
  logFormat: LogFormat;
  processInterval: number;
  topProcesses: number;
  processCmdline: ProcessCmdlineMode;
  inferencePort: number;
  inferenceHost: string;
  disable?: string[];
  config?: string;
  printConfig?: boolean;
}

/** `ewd_<id>_…`: which token it is, without its secret. */
export function redactToken(raw: string): string {
  const m = /^(ew[da]_[0-9a-f]{12})_/.exec(raw.trim());
  return m ? `${m[1]}_…` : '(not an edgewatch token: expected ewd_<id>_<secret>)';
}
