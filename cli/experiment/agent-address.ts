// Where the local agent listens for timings and experiments (its HTTP door), and the one POST
// `run` and `bench` make to it: short timeout, errors as values, never thrown.
import { Option } from 'commander';
import { INFERENCE_DEFAULT_PORT } from '../../shared/inference.js';
import { parsePort } from '../options.js';

const AGENT_TIMEOUT_MS = 3000;

/** The options that say where the local agent is, shared by `run` and `bench`. */
export function agentOptions(): Option[] {
  return [
    new Option('--agent-host <address>', 'where the local agent listens for timings').env('EDGEWATCH_INFERENCE_HOST').default('127.0.0.1'),
    new Option('--agent-port <port>', 'the local agent’s timing port').env('EDGEWATCH_INFERENCE_PORT').default(INFERENCE_DEFAULT_PORT).argParser(parsePort),
  ];
}

export interface AgentAddress {
  host: string;
  port: number;
}

export function agentUrl(a: AgentAddress): string {
  return `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** POST JSON to the agent; an error comes back as a value saying what failed. */
export async function post(url: string, body: unknown): Promise<{ ok: boolean; body?: unknown; error?: string }> {
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
