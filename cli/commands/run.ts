// `edgewatch run --name NAME [--tag k=v]… [--params N] [--model-bytes N] -- CMD …`: wraps one
// benchmark run in an experiment on the local agent. The command gets EDGEWATCH_EXPERIMENT (and
// the agent's port) in its environment, so SDK calls inside it attach their timings to the
// experiment; the experiment ends when the command exits, and `run` exits with its code. An
// agent that is down costs the run its experiment, never the run itself.
import { Command, InvalidArgumentError, Option } from 'commander';
import { spawn } from 'node:child_process';
import { INFERENCE_DEFAULT_PORT } from '../../shared/inference.js';
import { parsePort } from '../options.js';

const AGENT_TIMEOUT_MS = 3000;

interface RunOptions {
  name: string;
  tag?: Record<string, string>;
  params?: number;
  modelBytes?: number;
  agentHost: string;
  agentPort: number;
}

function parseTag(raw: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`"${raw}" is not a tag: use key=value, e.g. --tag quant=int8`);
  return { ...previous, [raw.slice(0, eq)]: raw.slice(eq + 1) };
}

function parseCount(raw: string): number {
  // 11.7M and 44.7e6 are how people write parameter counts.
  const m = /^\s*(\d+(?:\.\d+)?)(?:e(\d+))?\s*([kKmMgG]?)\s*$/.exec(raw);
  if (!m) throw new InvalidArgumentError(`"${raw}" is not a count: use e.g. 11689512, 11.7M or 44.7e6`);
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[3]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * 10 ** Number(m[2] ?? 0) * scale);
}

export function runCommand(): Command {
  return new Command('run')
    .description('run a command as an experiment: its SDK timings, and the device metrics meanwhile, can be compared with other runs')
    .requiredOption('--name <name>', 'experiment name; runs that share a name are repeats')
    .option('--tag <key=value>', 'a tag (repeatable), e.g. --tag quant=int8', parseTag)
    .option('--params <count>', 'parameter count of the model (for compression α), e.g. 11.7M', parseCount)
    .option('--model-bytes <bytes>', 'size of the model weights in bytes (for space saving β), e.g. 44.7M', parseCount)
    .addOption(new Option('--agent-host <address>', 'where the local agent listens for timings').env('EDGEWATCH_INFERENCE_HOST').default('127.0.0.1'))
    .addOption(new Option('--agent-port <port>', 'the local agent’s timing port').env('EDGEWATCH_INFERENCE_PORT').default(INFERENCE_DEFAULT_PORT).argParser(parsePort))
    .argument('<command...>', 'the command to run, after --')
    .passThroughOptions()
    .action(async (argv: string[], opts: RunOptions) => {
      const [cmd, ...args] = argv;
      const agent = `http://${opts.agentHost.includes(':') ? `[${opts.agentHost}]` : opts.agentHost}:${opts.agentPort}`;
      const id = await startExperiment(agent, opts);
      if (id) process.stderr.write(`edgewatch run: experiment ${id} (${opts.name}) started\n`);
      const started = Date.now();
      const code = await runChild(cmd!, args, {
        ...process.env,
        ...(id ? { EDGEWATCH_EXPERIMENT: id } : {}),
        EDGEWATCH_INFERENCE_HOST: opts.agentHost,
        EDGEWATCH_INFERENCE_PORT: String(opts.agentPort),
      });
      if (id) {
        const ended = await post(`${agent}/v1/experiments/${encodeURIComponent(id)}/end`, {});
        const took = ((Date.now() - started) / 1000).toFixed(1);
        if (ended.ok) process.stderr.write(`edgewatch run: experiment ${id} ended after ${took} s; compare it on the dashboard's Experiments page\n`);
        else process.stderr.write(`edgewatch run: could not end experiment ${id}: ${ended.error}\n`);
      }
      process.exitCode = code;
    });
}

async function startExperiment(agent: string, opts: RunOptions): Promise<string | null> {
  const body = {
    name: opts.name,
    ...(opts.tag ? { tags: opts.tag } : {}),
    ...(opts.params !== undefined ? { params: opts.params } : {}),
    ...(opts.modelBytes !== undefined ? { modelBytes: opts.modelBytes } : {}),
  };
  const res = await post(`${agent}/v1/experiments`, body);
  if (res.ok && typeof (res.body as { id?: unknown }).id === 'string') return (res.body as { id: string }).id;
  process.stderr.write(
    `edgewatch run: no experiment (the agent at ${agent} answered: ${res.error ?? JSON.stringify(res.body)}); running the command anyway. ` +
      'Is `edgewatch agent` (or `edgewatch start`) running on this device?\n',
  );
  return null;
}

async function post(url: string, body: unknown): Promise<{ ok: boolean; body?: unknown; error?: string }> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(AGENT_TIMEOUT_MS),
    });
    const parsed: unknown = await res.json().catch(() => null);
    if (!res.ok) return { ok: false, body: parsed, error: `HTTP ${res.status} ${JSON.stringify(parsed)}` };
    return { ok: true, body: parsed };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { ok: false, error: cause ?? (err as Error).message };
  }
}

/** Runs the command with the terminal; resolves with its exit code (128 + n for a signal, as a shell reports it). */
function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env });
    // Ctrl-C reaches the child from the terminal by itself; a kill aimed at `run` is passed on
    // so the experiment still ends when the command does.
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    const onInt = () => {};
    process.on('SIGINT', onInt);
    process.on('SIGTERM', forward);
    process.on('SIGHUP', forward);
    const done = (code: number) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
      resolve(code);
    };
    child.on('error', (err) => {
      process.stderr.write(`edgewatch run: cannot run ${JSON.stringify(cmd)}: ${err.message}\n`);
      done(127);
    });
    child.on('exit', (code, signal) => {
      const signo = signal ? (({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }) as Record<string, number>)[signal] ?? 1 : 0;
      done(code ?? 128 + signo);
    });
  });
}
