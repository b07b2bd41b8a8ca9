// `edgewatch top` (also `edgewatch-agent top`): a full-screen terminal view of this device (see
// agent/top/). It attaches to the local agent when one answers on the inference port, so the
// device is not sampled twice, and samples the collectors itself otherwise.
import { Command, Option } from 'commander';
import { createLogger, silentLogger } from '../../shared/log.js';
import { inferencePortOption, intervalOption, logLevelOption, parsePositiveInt } from '../options.js';

interface TopCliOptions {
  agent?: string;
  inferencePort: number;
  direct?: boolean;
  once?: boolean;
  width?: number;
  interval: number;
  procRoot: string;
  sysRoot: string;
  hostRoot: string;
  logLevel: string;
}

export function topCommand(): Command {
  return new Command('top')
    .description("a terminal view of this device: what the agent records, refreshed at the agent's interval (q quits, s/m sort, h help)")
    .addOption(new Option('--agent <url>', 'the local agent to attach to (default: http://127.0.0.1:<inference port>)').env('EDGEWATCH_TOP_AGENT'))
    .addOption(inferencePortOption())
    .option('--direct', 'do not look for an agent: sample this device directly')
    .option('--once', 'print one plain-text frame (no colours, no escape codes) and exit: for scripts and bug reports')
    .addOption(new Option('--width <columns>', 'columns of a --once frame when stdout is not a terminal').default(100).argParser(parsePositiveInt))
    .addOption(intervalOption())
    .addOption(new Option('--proc-root <dir>', 'where /proc is (a container sees the host at e.g. /host/proc)').env('EDGEWATCH_PROC_ROOT').default('/proc'))
    .addOption(new Option('--sys-root <dir>', 'where /sys is').env('EDGEWATCH_SYS_ROOT').default('/sys'))
    .addOption(new Option('--host-root <dir>', "prefix of the host's mount points, for filesystem usage").env('EDGEWATCH_HOST_ROOT').default('/'))
    .addOption(logLevelOption())
    .action(async (opts: TopCliOptions, command: Command) => {
      const stdout = process.stdout;
      let once = opts.once ?? false;
      if (!once && !stdout.isTTY) {
        // A pipe or a file cannot show a live screen; one frame is what a script wants.
        process.stderr.write('edgewatch top: stdout is not a terminal, printing one plain frame (as with --once)\n');
        once = true;
      }
      if (!once && !process.stdin.isTTY) {
        command.error('error: edgewatch top needs a terminal on stdin for its keys (q, s, m, h); run it in a terminal, or use --once for one frame');
      }
      const color = !once && stdout.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
      // Log lines on a full-screen view would tear it: only --once, whose frame is on stdout, logs (to stderr).
      const log = once ? createLogger('top', opts.logLevel) : silentLogger();
      const { runTop } = await import('../../agent/top/run.js');
      const agentUrl = opts.agent ?? `http://127.0.0.1:${opts.inferencePort}`;
      await runTop({
        agentUrl,
        direct: opts.direct ?? false,
        once,
        color,
        width: stdout.isTTY ? stdout.columns : opts.width,
        intervalMs: opts.interval,
        procRoot: opts.procRoot,
        sysRoot: opts.sysRoot,
        hostRoot: opts.hostRoot,
        log,
        stdin: process.stdin,
        stdout,
      });
      // Child tools (nvidia-smi, tegrastats) are closed; do not wait on anything left behind.
      process.exit(0);
    });
}
