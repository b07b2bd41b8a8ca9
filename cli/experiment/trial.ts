// One trial: start an experiment on the local agent, run the command with EDGEWATCH_EXPERIMENT
// set, read and send its scores, end the experiment and take the agent's figures. `edgewatch
// run` is one trial; `edgewatch bench` repeats them, so both measure the same way.
import { spawn, type StdioOptions } from 'node:child_process';
import { resolve as resolvePath } from 'node:path';
import type { ExperimentEndSummary, Score, Warmup } from '../../shared/inference.js';
import { agentUrl, DEFAULT_AGENT_RETRY_MS, post, postWithRetry, type AgentAddress, type PostResult } from './agent-address.js';
import { fileStamp, MAX_SCORES_LINE_BYTES, readScoresFile, readScoresLine, scoresObject } from './scores-input.js';


export interface TrialSpec {
  agent: AgentAddress;
  name: string;
  tags?: Record<string, string>;
  params?: number;
  modelBytes?: number;
  warmup?: Warmup;
  /** argv (spawned directly) or a shell command line (run with /bin/sh -c). */
  command: { argv: string[] } | { shell: string };
  /** `stdout`: read the last `{"scores": …}` line of the command's stdout; else a JSON file read after it exits. */
  scoresFrom?: string;
  /** Where the command's stdout goes: ours (default), or our stderr (so `bench --json` keeps stdout for JSON). */
  stdoutTo?: 'stdout' | 'stderr';
  /** More environment for the command. */
  env?: Record<string, string>;
  /** Prefix of every message, e.g. `edgewatch run`. */
  label: string;
  /** Say "experiment … started/ended" on stderr (run: yes; bench prints its own progress). */
  announce?: boolean;
}

export interface TrialResult {
  /** Null when the agent could not start an experiment (the command ran anyway). */
  id: string | null;
  exitCode: number;
  /** The agent's figures at the end; null without an experiment, or from an agent that sends none. */
  summary: ExperimentEndSummary | null;
  /** Scores the agent accepted for this experiment. */
  scores: Score[];
  /** The command was stopped by Ctrl-C (SIGINT) or a signal sent to us. */
  interrupted: boolean;
  /** Wall clock, ms. */
  startedAt: number;
  durationMs: number;
}

/** Start the experiment, run the command, send its scores, end the experiment: one trial. */
export async function runTrial(spec: TrialSpec): Promise<TrialResult> {
  const agent = agentUrl(spec.agent);
  const warn = (text: string): void => void process.stderr.write(`${spec.label}: ${text}\n`);
  const id = await startExperiment(agent, spec, warn);
  if (id && spec.announce) warn(`experiment ${id} (${spec.name}) started`);

  const scoresFile = spec.scoresFrom !== undefined && spec.scoresFrom !== 'stdout' ? resolvePath(spec.scoresFrom) : null;
  const fileBefore = scoresFile ? fileStamp(scoresFile) : null;
  const startedAt = Date.now();
  const child = await runChild(spec, {
    ...process.env,
    ...spec.env,
    ...(id ? { EDGEWATCH_EXPERIMENT: id } : {}),
    EDGEWATCH_INFERENCE_HOST: spec.agent.host,
    EDGEWATCH_INFERENCE_PORT: String(spec.agent.port),
  });
  const durationMs = Date.now() - startedAt;

  let scores: Score[] = [];
  if (spec.scoresFrom !== undefined) {
    const found = scoresFile ? readScoresFile(scoresFile, fileBefore) : readScoresLine(child.scoresLine);
    if (found.problem) warn(`scores from ${scoresFile ? spec.scoresFrom : 'stdout'}: ${found.problem}`);
    if (found.scores.length > 0 && id) {
      const sent = await postToAgent(spec, `${agent}/v1/experiments/${encodeURIComponent(id)}/scores`, { scores: found.scores }, `the scores of experiment ${id}`, warn);
      if (sent.ok) scores = found.scores;
      else warn(`the agent did not take the scores of experiment ${id}: ${explain(sent, id, spec)}`);
    }
  }

  let summary: ExperimentEndSummary | null = null;
  if (id) {
    const ended = await postToAgent(spec, `${agent}/v1/experiments/${encodeURIComponent(id)}/end`, {}, `the end of experiment ${id}`, warn);
    if (ended.ok) {
      summary = summaryOf(ended.body);
      if (spec.announce) warn(`experiment ${id} ended after ${(durationMs / 1000).toFixed(1)} s; compare it on the dashboard's Experiments page`);
    } else {
      warn(`could not end experiment ${id}: ${explain(ended, id, spec)}`);
    }
  }
  return { id, exitCode: child.code, summary, scores: summary?.scores.length ? summary.scores : scores, interrupted: child.interrupted, startedAt, durationMs };
}

/** A POST of the end or scores, retried while the agent restarts (AgentAddress.retryMs). */
function postToAgent(spec: TrialSpec, url: string, body: unknown, what: string, warn: (text: string) => void): Promise<PostResult> {
  const retryMs = spec.agent.retryMs ?? DEFAULT_AGENT_RETRY_MS;
  return postWithRetry(url, body, retryMs, (error) =>
    warn(`the agent did not take ${what} (${error}); it may be restarting: retrying for up to ${Math.round(retryMs / 1000)} s (--agent-retry)`),
  );
}

/** What a failed end or scores POST means for the user, in words. */
function explain(res: PostResult, id: string, spec: TrialSpec): string {
  if (res.status === 404) {
    return (
      `the agent at ${agentUrl(spec.agent)} no longer knows it (HTTP 404): it restarted without its state directory, or the experiment was ended already. ` +
      'The timings it sent before are on the hub, which closes the experiment as "ended by timeout"; this run\'s summary is missing.'
    );
  }
  if (res.status === undefined) {
    return `the agent at ${agentUrl(spec.agent)} could not be reached (${res.error}) after ${res.attempts ?? 1} attempt(s); start it again (or raise --agent-retry): the hub closes the experiment after its --experiment-timeout`;
  }
  return res.error ?? `HTTP ${res.status}`;
}

function summaryOf(body: unknown): ExperimentEndSummary | null {
  const s = (body as { summary?: unknown } | null)?.summary as ExperimentEndSummary | undefined;
  if (!s || typeof s !== 'object' || typeof s.inferences !== 'number' || typeof s.measured !== 'object' || s.measured === null) return null;
  return { ...s, scores: Array.isArray(s.scores) ? s.scores : [], warmup: s.warmup ?? emptyDigest(), dropped: s.dropped ?? 0, firstCallMs: s.firstCallMs ?? null };
}

function emptyDigest(): ExperimentEndSummary['warmup'] {
  return { count: 0, mean: null, p50: null, p90: null, p95: null, p99: null, min: null, max: null, stdev: null };
}

async function startExperiment(agent: string, spec: TrialSpec, warn: (text: string) => void): Promise<string | null> {
  const body = {
    name: spec.name,
    ...(spec.tags && Object.keys(spec.tags).length > 0 ? { tags: spec.tags } : {}),
    ...(spec.params !== undefined ? { params: spec.params } : {}),
    ...(spec.modelBytes !== undefined ? { modelBytes: spec.modelBytes } : {}),
    ...(spec.warmup ? { warmup: spec.warmup } : {}),
  };
  const res = await post(`${agent}/v1/experiments`, body);
  if (res.ok && typeof (res.body as { id?: unknown }).id === 'string') return (res.body as { id: string }).id;
  warn(
    `no experiment (the agent at ${agent} answered: ${res.error ?? JSON.stringify(res.body)}); running the command anyway. ` +
      'Is `edgewatch agent` (or `edgewatch start`) running on this device?',
  );
  return null;
}

interface ChildResult {
  code: number;
  interrupted: boolean;
  /** With scores from stdout: the last stdout line that is a JSON object with a `scores` key. */
  scoresLine: unknown;
}

/**
 * Runs the command with the terminal; resolves with its exit code (128 + n for a signal, as a
 * shell reports it). Its stdout is only piped (through to ours, live) when scores are read from
 * it: otherwise it inherits ours, so programs that check for a TTY behave as without `run`.
 */
function runChild(spec: TrialSpec, env: NodeJS.ProcessEnv): Promise<ChildResult> {
  const [cmd, args, shown] =
    'shell' in spec.command ? ['/bin/sh', ['-c', spec.command.shell], spec.command.shell] : [spec.command.argv[0]!, spec.command.argv.slice(1), spec.command.argv[0]!];
  const readStdout = spec.scoresFrom === 'stdout';
  const out = spec.stdoutTo === 'stderr' ? process.stderr : process.stdout;
  const stdio: StdioOptions = ['inherit', readStdout ? 'pipe' : spec.stdoutTo === 'stderr' ? 2 : 'inherit', 'inherit'];
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio, env });
    let interrupted = false;
    let scoresLine: unknown;
    if (readStdout && child.stdout) {
      child.stdout.pipe(out, { end: false });
      const lines = lineScanner((line) => {
        const found = scoresObject(line);
        if (found !== undefined) scoresLine = found;
      });
      child.stdout.on('data', lines.push);
      child.stdout.on('end', lines.end);
    }
    // Ctrl-C reaches the child from the terminal by itself; a kill aimed at us is passed on so
    // the experiment still ends when the command does.
    const forward = (signal: NodeJS.Signals) => {
      interrupted = true;
      child.kill(signal);
    };
    const onInt = () => {
      interrupted = true;
    };
    process.on('SIGINT', onInt);
    process.on('SIGTERM', forward);
    process.on('SIGHUP', forward);
    let settled = false;
    const done = (code: number) => {
      if (settled) return;
      settled = true;
      process.off('SIGINT', onInt);
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
      resolve({ code, interrupted, scoresLine });
    };
    child.on('error', (err) => {
      process.stderr.write(`${spec.label}: cannot run ${JSON.stringify(shown)}: ${err.message}\n`);
      done(127);
    });
    // `close`, not `exit`: with a piped stdout, its last line has been read by then.
    child.on('close', (code, signal) => {
      const signo = signal ? (({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }) as Record<string, number>)[signal] ?? 1 : 0;
      if (signal === 'SIGINT') interrupted = true;
      done(code ?? 128 + signo);
    });
  });
}

/** Calls `onLine` for each complete line (and the unterminated last one); overlong lines are skipped. */
function lineScanner(onLine: (line: string) => void): { push: (chunk: Buffer) => void; end: () => void } {
  let parts: Buffer[] = [];
  let size = 0;
  let overlong = false;
  const flush = () => {
    if (!overlong && size > 0) onLine(Buffer.concat(parts).toString('utf8'));
    parts = [];
    size = 0;
    overlong = false;
  };
  return {
    push(chunk) {
      let from = 0;
      for (let nl = chunk.indexOf(10, from); nl !== -1; nl = chunk.indexOf(10, from)) {
        if (!overlong) parts.push(chunk.subarray(from, nl));
        size += nl - from;
        if (size > MAX_SCORES_LINE_BYTES) overlong = true;
        flush();
        from = nl + 1;
      }
      if (from < chunk.length) {
        size += chunk.length - from;
        if (size > MAX_SCORES_LINE_BYTES) {
          overlong = true;
          parts = [];
        } else if (!overlong) parts.push(Buffer.from(chunk.subarray(from)));
      }
    },
    end: flush,
  };
}
