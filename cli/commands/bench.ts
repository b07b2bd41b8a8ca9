// `edgewatch bench --repeat N --variant NAME=CMD --variant NAME=CMD … [--baseline NAME]`: runs
// each variant's command N times as trials, interleaved (A B A B …, or shuffled within each
// round) so drift in temperature, clocks and background load falls on every variant alike, each
// trial one experiment on the local agent (`runTrial`, as `edgewatch run` does). Between trials
// it can pause and wait for the board to cool. At the end it prints what the agent measured, as
// medians over the trials with bootstrap intervals, δ against the baseline with a Mann–Whitney
// test and a verdict (shared/trial-stats.ts), and the link to the same trials on the hub.
import { Command, InvalidArgumentError, Option } from 'commander';
import { randomBytes } from 'node:crypto';
import type { Warmup } from '../../shared/inference.js';
import { coolDown } from '../bench/cooldown.js';
import { planTrials, type Variant } from '../bench/plan.js';
import { buildReport, renderReport, type DoneTrial } from '../bench/report.js';
import { agentOptions, agentUrl, type AgentAddress } from '../experiment/agent-address.js';
import { gitTags } from '../experiment/git-tags.js';
import { parseCount, parseScoresFrom, parseTag, parseWarmup } from '../experiment/option-parsers.js';
import { formatMs } from '../experiment/summary-text.js';
import { runTrial } from '../experiment/trial.js';
import { parseDuration, parsePositiveInt } from '../options.js';

const LABEL = 'edgewatch bench';
const VARIANT_NAME_RE = /^[A-Za-z0-9_.:@+-]{1,64}$/;

interface BenchOptions {
  name?: string;
  repeat: number;
  warmup?: Warmup;
  variant: Variant[];
  baseline?: string;
  order: 'interleaved' | 'shuffle';
  seed?: number;
  cooldown?: number;
  cooldownTemp?: number;
  cooldownMax?: number;
  scoresFrom?: string;
  params?: Record<string, number>;
  modelBytes?: Record<string, number>;
  tag?: Record<string, string>;
  json?: boolean;
  keepGoing?: boolean;
  sysRoot: string;
  agentHost: string;
  agentPort: number;
  agentRetry: number;
}


function parseVariant(raw: string, previous: Variant[] | undefined): Variant[] {
  const eq = raw.indexOf('=');
  const name = eq > 0 ? raw.slice(0, eq) : '';
  const command = eq > 0 ? raw.slice(eq + 1).trim() : '';
  if (!VARIANT_NAME_RE.test(name) || command === '') {
    throw new InvalidArgumentError(`"${raw}" is not a variant: use NAME=COMMAND, e.g. --variant int8='python3 infer.py --int8' (names: 1–64 of [A-Za-z0-9_.:@+-])`);
  }
  if (previous?.some((v) => v.name === name)) throw new InvalidArgumentError(`variant "${name}" is given twice`);
  return [...(previous ?? []), { name, command }];
}

function perVariantCount(raw: string, previous: Record<string, number> | undefined): Record<string, number> {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`"${raw}" is not NAME=COUNT, e.g. int8=11.7M`);
  return { ...previous, [raw.slice(0, eq)]: parseCount(raw.slice(eq + 1)) };
}

function parseCelsius(raw: string): number {
  const n = Number(raw.replace(/\s*°?C$/i, ''));
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 150) throw new InvalidArgumentError(`"${raw}" is not a temperature: °C, e.g. 50`);
  return n;
}

function parseSeed(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError(`"${raw}" is not a seed: an integer 0–4294967295`);
  return n;
}

export function benchCommand(): Command {
  const command = new Command('bench')
    .description('compare variants of a model on this device: each command run --repeat times as trials, interleaved, and summarised with confidence intervals')
    .option('--name <prefix>', 'experiment names are PREFIX/VARIANT (default: the variant name)')
    .requiredOption('--repeat <n>', 'trials per variant (5 or more for a verdict)', parsePositiveInt)
    .requiredOption('--variant <name=command>', 'a variant and its shell command (repeatable), e.g. --variant fp32=\'python3 infer.py\'', parseVariant)
    .option('--baseline <name>', 'the variant the others are compared with (default: the first)')
    .addOption(new Option('--order <order>', 'trial order: interleaved (A B A B …) or shuffle (seeded, within each round)').choices(['interleaved', 'shuffle']).default('interleaved'))
    .option('--seed <n>', 'seed of --order shuffle (default: a random one, printed)', parseSeed)
    .option('--warmup <calls|duration>', 'leave the first calls of each trial out of the figures: a number of calls (20) or a time (5s)', parseWarmup)
    .option('--cooldown <duration>', 'pause between trials, e.g. 10s', parseDuration)
    .option('--cooldown-temp <°C>', 'between trials, wait until the hottest thermal zone is at or below this', parseCelsius)
    .option('--cooldown-max <duration>', 'give up waiting for --cooldown-temp after this long (default 5m)', parseDuration)
    .option('--scores-from <stdout|file>', 'quality scores of each trial: `stdout` (its last {"scores": …} line) or a JSON file the command writes', parseScoresFrom)
    .option('--params <name=count>', 'parameter count of a variant (repeatable), e.g. --params fp32=11.7M', perVariantCount)
    .option('--model-bytes <name=bytes>', 'model size of a variant (repeatable), e.g. --model-bytes int8=11.2M', perVariantCount)
    .option('--tag <key=value>', 'a tag on every trial (repeatable)', parseTag)
    .option('--keep-going', 'when a trial fails, go on with the others (the bench still exits non-zero)')
    .option('--json', 'print the results as one JSON object instead of tables (commands’ stdout goes to stderr)')
    .addOption(new Option('--sys-root <dir>', 'where /sys is, for --cooldown-temp').env('EDGEWATCH_SYS_ROOT').default('/sys'));
  for (const option of agentOptions()) command.addOption(option);
  return command.action(async (opts: BenchOptions, cmd: Command) => {
    const problem = checkOptions(opts);
    if (problem) cmd.error(`error: ${problem}`);
    process.exitCode = await bench(opts);
  });
}

function checkOptions(opts: BenchOptions): string | null {
  const names = opts.variant.map((v) => v.name);
  if (opts.baseline !== undefined && !names.includes(opts.baseline)) return `--baseline ${opts.baseline} is not one of the variants (${names.join(', ')})`;
  for (const [flag, map] of [['--params', opts.params], ['--model-bytes', opts.modelBytes]] as const) {
    const unknown = Object.keys(map ?? {}).find((n) => !names.includes(n));
    if (unknown !== undefined) return `${flag} ${unknown}=…: no variant is called ${unknown} (variants: ${names.join(', ')})`;
  }
  if (opts.cooldownMax !== undefined && opts.cooldownTemp === undefined) return '--cooldown-max needs --cooldown-temp';
  if (opts.seed !== undefined && opts.order !== 'shuffle') return '--seed only applies to --order shuffle';
  if (opts.name !== undefined && !/^[^\s/][^\n]{0,62}$/.test(opts.name)) return `--name "${opts.name}" is not a name prefix: 1–63 characters, not starting with a space or /`;
  return null;
}

async function bench(opts: BenchOptions): Promise<number> {
  const agent: AgentAddress = { host: opts.agentHost, port: opts.agentPort, retryMs: opts.agentRetry };
  const health = await agentHealth(agent);
  if (health) {
    process.stderr.write(`${LABEL}: the agent at ${agentUrl(agent)} does not answer (${health}): start \`edgewatch agent\` or \`edgewatch start\` on this device; bench reads its figures from it\n`);
    return 1;
  }
  const baseline = opts.baseline ?? opts.variant[0]!.name;
  const seed = opts.order === 'shuffle' ? (opts.seed ?? randomBytes(4).readUInt32BE(0)) : null;
  const benchId = `b-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const plan = planTrials(opts.variant, opts.repeat, seed === null ? null : { seed });
  const git = await gitTags();
  const say = (text: string): void => void process.stderr.write(`${LABEL}: ${text}\n`);
  say(
    `${benchId}: ${opts.variant.length} variant${opts.variant.length === 1 ? '' : 's'} × ${opts.repeat} trial${opts.repeat === 1 ? '' : 's'}, ` +
      (seed === null ? 'interleaved' : `shuffled within each round (seed ${seed}; --seed ${seed} repeats this order)`) +
      `; baseline ${baseline}`,
  );

  const done: DoneTrial[] = [];
  const warnings: string[] = [];
  let stopped: string | null = null;
  for (const planned of plan) {
    if (planned.order > 1) {
      const cool = await coolDown(opts);
      if (cool) {
        warnings.push(`before trial ${planned.order}: ${cool}`);
        say(`warning: ${cool}`);
      }
    }
    const { variant, trial, order } = planned;
    say(`[${order}/${plan.length}] ${variant.name} trial ${trial}: ${variant.command}`);
    const result = await runTrial({
      agent,
      name: opts.name !== undefined ? `${opts.name}/${variant.name}` : variant.name,
      tags: { ...git, ...opts.tag, bench: benchId, variant: variant.name, trial: String(trial), order: String(order) },
      ...(opts.params?.[variant.name] !== undefined ? { params: opts.params[variant.name]! } : {}),
      ...(opts.modelBytes?.[variant.name] !== undefined ? { modelBytes: opts.modelBytes[variant.name]! } : {}),
      ...(opts.warmup ? { warmup: opts.warmup } : {}),
      ...(opts.scoresFrom !== undefined ? { scoresFrom: opts.scoresFrom } : {}),
      command: { shell: variant.command },
      stdoutTo: opts.json ? 'stderr' : 'stdout',
      env: { EDGEWATCH_BENCH: benchId, EDGEWATCH_BENCH_VARIANT: variant.name, EDGEWATCH_BENCH_TRIAL: String(trial), EDGEWATCH_BENCH_ORDER: String(order) },
      label: LABEL,
    });
    const ok = result.exitCode === 0 && result.id !== null;
    done.push({ ...planned, result, ok });
    const where = `trial ${order}/${plan.length} (${variant.name} #${trial}${result.id ? `, experiment ${result.id}` : ''})`;
    if (result.id === null) {
      stopped = `${where} got no experiment from the agent; stopping`;
      break;
    }
    if (result.interrupted) {
      stopped = `${where} was interrupted; stopping`;
      break;
    }
    if (result.exitCode !== 0) {
      const msg = `${where} failed: \`${variant.command}\` exited with code ${result.exitCode}`;
      if (!opts.keepGoing) {
        stopped = `${msg}; stopping (pass --keep-going to run the remaining trials)`;
        break;
      }
      warnings.push(`${msg}; left out of the figures`);
      say(`${msg}; left out of the figures, going on (--keep-going)`);
      continue;
    }
    if (result.summary?.inferences === 0) {
      const msg = `${variant.name} trial ${trial} (${result.id}): no timings reached the agent; does the command report them through the SDK?`;
      warnings.push(msg);
      say(`warning: ${msg}`);
    } else if (result.summary) say(`  ${result.id}: p50 ${formatMs(result.summary.measured.p50)}, p99 ${formatMs(result.summary.measured.p99)}, ${result.summary.inferences} calls in ${(result.summary.durationMs / 1000).toFixed(1)} s`);
    else say(`  ${result.id}: the agent sent no figures at the end (an agent older than bench?); the hub still has them`);
  }

  if (stopped) {
    say(stopped);
    const ids = done.filter((d) => d.result.id).map((d) => d.result.id!);
    if (ids.length > 0) say(`experiments so far: ${ids.join(',')}`);
    return 1;
  }
  const report = buildReport({ benchId, opts, baseline, seed, done, warnings });
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
  return done.some((d) => !d.ok) ? 1 : 0;
}

/** null when the agent answers GET /v1/health; otherwise why not. */
async function agentHealth(agent: AgentAddress): Promise<string | null> {
  try {
    const res = await fetch(`${agentUrl(agent)}/v1/health`, { signal: AbortSignal.timeout(3000) });
    return res.ok ? null : `HTTP ${res.status}`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? (err as Error).message;
  }
}
