// Where the local agent listens for timings and experiments (its HTTP door), and the one POST
// `run` and `bench` make to it: short timeout, errors as values, never thrown.
import { Option } from 'commander';
import { INFERENCE_DEFAULT_PORT } from '../../shared/inference.js';
import { parseDuration, parsePort } from '../options.js';

const AGENT_TIMEOUT_MS = 3000;
/** How long an experiment's end and scores are retried while the agent is down (restarting). */
export const DEFAULT_AGENT_RETRY_MS = 30_000;

/** The options that say where the local agent is, shared by `run` and `bench`. */
export function agentOptions(): Option[] {
  return [
    new Option('--agent-host <address>', 'where the local agent listens for timings').env('EDGEWATCH_INFERENCE_HOST').default('127.0.0.1'),
    new Option('--agent-port <port>', 'the local agent’s timing port').env('EDGEWATCH_INFERENCE_PORT').default(INFERENCE_DEFAULT_PORT).argParser(parsePort),
    new Option('--agent-retry <duration>', 'how long to keep retrying an experiment’s end (and scores) while the agent is unreachable, e.g. restarting: 30s, 2m, 0 = once')
      .env('EDGEWATCH_AGENT_RETRY')
      .default(DEFAULT_AGENT_RETRY_MS, '30s')
      .argParser(parseDuration),
  ];
}

export interface AgentAddress {
  host: string;
  port: number;
  /** How long an end or scores POST is retried while the agent is down or answers 5xx (ms); default 30 s. */
  retryMs?: number;
}

export function agentUrl(a: AgentAddress): string {
  return `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

export interface PostResult {
  ok: boolean;
  /** HTTP status when the agent answered. */
  status?: number;
  body?: unknown;
  error?: string;
  /** Attempts made (post with retry). */
  attempts?: number;
}

/**
 * POSTs, retrying with backoff (0.25 s doubling to 2 s) for up to `retryMs` while the agent
 * cannot be reached or answers 5xx: an agent restarted mid-run (systemd's Restart=always) is
 * back within seconds and knows its open experiments again. A 4xx is an answer and is not
 * retried. `onWait` is called once, at the first failure, so the user knows why we wait.
 */
export async function postWithRetry(url: string, body: unknown, retryMs: number, onWait?: (error: string) => void): Promise<PostResult> {
  const deadline = Date.now() + Math.max(0, retryMs);
  let delay = 250;
  for (let attempts = 1; ; attempts++) {
    const res = await post(url, body);
    const retryable = res.status === undefined || res.status >= 500;
    if (res.ok || !retryable || Date.now() + delay > deadline) return { ...res, attempts };
    if (attempts === 1) onWait?.(res.error ?? `HTTP ${res.status}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 2000);
  }
}

/** POST JSON to the agent; an error comes back as a value saying what failed. */
export async function post(url: string, body: unknown): Promise<PostResult> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(AGENT_TIMEOUT_MS),
    });
    const parsed: unknown = await res.json().catch(() => null);
    if (!res.ok) return { ok: false, status: res.status, body: parsed, error: `HTTP ${res.status} ${JSON.stringify(parsed)}` };
    return { ok: true, status: res.status, body: parsed };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { ok: false, error: cause ?? (err as Error).message };
  }
}
