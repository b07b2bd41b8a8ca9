// `edgewatch run --name NAME [--tag k=v]… [--params N] [--model-bytes N] [--warmup N|5s]
// [--scores-from stdout|FILE] -- CMD …`: wraps one benchmark run in an experiment on the local
// agent. The command gets EDGEWATCH_EXPERIMENT (and the agent's port) in its environment, so SDK
// calls inside it attach their timings to the experiment; the experiment ends when the command
// exits, and `run` exits with its code. An agent that is down costs the run its experiment,
// never the run itself.
//
// One run is one trial (cli/experiment/trial.ts: start → command → scores → end → the agent's
// summary), what `edgewatch bench` repeats, so both commands measure the same way. An agent
// that restarts during the run reloads the experiment from its state directory; the end is
// retried meanwhile (--agent-retry), so it lands on the restarted agent.
import { Command } from 'commander';
import type { Warmup } from '../../shared/inference.js';
import { agentOptions } from '../experiment/agent-address.js';
import { parseCount, parseScoresFrom, parseTag, parseWarmup } from '../experiment/option-parsers.js';
import { gitTags } from '../experiment/git-tags.js';
import { summaryLines } from '../experiment/summary-text.js';
import { runTrial } from '../experiment/trial.js';

// ---- the command ----

interface RunOptions {
  name: string;
  tag?: Record<string, string>;
  params?: number;
  modelBytes?: number;
  warmup?: Warmup;
  scoresFrom?: string;
  agentHost: string;
  agentPort: number;
  agentRetry: number;
}

export function runCommand(): Command {
  const command = new Command('run')
    .description('run a command as an experiment: its SDK timings, and the device metrics meanwhile, can be compared with other runs')
    .requiredOption('--name <name>', 'experiment name; runs that share a name are repeats')
    .option('--tag <key=value>', 'a tag (repeatable), e.g. --tag quant=int8; git.commit and git.dirty are added inside a git work tree', parseTag)
    .option('--params <count>', 'parameter count of the model (for compression α), e.g. 11.7M', parseCount)
    .option('--model-bytes <bytes>', 'size of the model weights in bytes (for space saving β), e.g. 44.7M', parseCount)
    .option('--warmup <calls|duration>', 'leave the first calls out of the figures: a number of calls per model (20) or a time from the start (5s, 500ms)', parseWarmup)
    .option(
      '--scores-from <stdout|file>',
      'quality scores of the run: `stdout` reads the command\'s last line like {"scores": {"top1": 0.91}}; a file path is read after the command exits',
      parseScoresFrom,
    );
  for (const option of agentOptions()) command.addOption(option);
  return command
    .argument('<command...>', 'the command to run, after --')
    .passThroughOptions()
    .action(async (argv: string[], opts: RunOptions) => {
      const tags = { ...(await gitTags()), ...opts.tag };
      const result = await runTrial({
        agent: { host: opts.agentHost, port: opts.agentPort, retryMs: opts.agentRetry },
        name: opts.name,
        tags,
        ...(opts.params !== undefined ? { params: opts.params } : {}),
        ...(opts.modelBytes !== undefined ? { modelBytes: opts.modelBytes } : {}),
        ...(opts.warmup ? { warmup: opts.warmup } : {}),
        ...(opts.scoresFrom !== undefined ? { scoresFrom: opts.scoresFrom } : {}),
        command: { argv },
        label: 'edgewatch run',
        announce: true,
      });
      if (result.summary) for (const line of summaryLines(result.summary)) process.stderr.write(`edgewatch run: ${line}\n`);
      process.exitCode = result.exitCode;
    });
}
