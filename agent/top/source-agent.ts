// top attached to a running agent: GET /v1/top on the agent's inference port returns what the
// agent last sampled, so a watching person adds one small HTTP request per interval and no
// sampling. The answer is checked for shape before it is drawn.
import type { ProcessRow } from '../../shared/protocol.js';
import type { TopSnapshot } from './snapshot.js';

export type AgentAnswer = { ok: true; snapshot: TopSnapshot } | { ok: false; why: string };

export async function fetchAgentSnapshot(baseUrl: string, timeoutMs = 1000): Promise<AgentAnswer> {
  const url = `${baseUrl.replace(/\/+$/, '')}/v1/top`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED') return { ok: false, why: `no agent at ${hostOf(baseUrl)}` };
    if ((err as Error).name === 'TimeoutError') return { ok: false, why: `agent at ${hostOf(baseUrl)} did not answer within ${timeoutMs} ms` };
    return { ok: false, why: `agent at ${hostOf(baseUrl)} unreachable: ${cause?.code ?? (err as Error).message}` };
  }
  if (res.status === 404) {
    await res.body?.cancel();
    return { ok: false, why: `agent at ${hostOf(baseUrl)} has no /v1/top (an older version)` };
  }
  if (!res.ok) {
    const text = (await res.text().catch(() => '')).slice(0, 200);
    return { ok: false, why: `agent at ${hostOf(baseUrl)} answered ${res.status} ${text}` };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch (err) {
    return { ok: false, why: `agent at ${hostOf(baseUrl)} sent something that is not JSON: ${(err as Error).message}` };
  }
  const snapshot = checkSnapshot(body);
  return snapshot ? { ok: true, snapshot } : { ok: false, why: `agent at ${hostOf(baseUrl)} sent a /v1/top answer of an unknown shape` };
}

function checkSnapshot(body: unknown): TopSnapshot | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  const device = b.device as Record<string, unknown> | undefined;
  if (typeof device?.name !== 'string' || typeof b.intervalMs !== 'number' || !Array.isArray(b.capabilities) || !Array.isArray(b.experiments)) return null;
  const sample = b.sample as { t?: unknown; m?: unknown } | null;
  if (sample !== null && (typeof sample !== 'object' || typeof sample.t !== 'number' || typeof sample.m !== 'object' || sample.m === null)) return null;
  const table = b.processes as { rows?: unknown } | null;
  if (table !== null && (typeof table !== 'object' || !Array.isArray(table.rows))) return null;
  return {
    device: { name: device.name, hostname: typeof device.hostname === 'string' ? device.hostname : '', ...(typeof device.id === 'string' ? { id: device.id } : {}) },
    agentVersion: typeof b.agentVersion === 'string' ? b.agentVersion : '?',
    intervalMs: b.intervalMs,
    processIntervalMs: typeof b.processIntervalMs === 'number' ? b.processIntervalMs : 0,
    capabilities: (b.capabilities as unknown[]).filter((c): c is string => typeof c === 'string'),
    inventory: typeof b.inventory === 'object' && b.inventory !== null ? (b.inventory as TopSnapshot['inventory']) : {},
    sample: sample === null ? null : { t: sample.t as number, m: finiteValues(sample.m as Record<string, unknown>) },
    processes: table === null ? null : { ...(table as NonNullable<TopSnapshot['processes']>), rows: (table.rows as unknown[]).filter(isRow) },
    modelNames: typeof b.modelNames === 'object' && b.modelNames !== null ? Object.fromEntries(Object.entries(b.modelNames).filter((e): e is [string, string] => typeof e[1] === 'string')) : {},
    experiments: (b.experiments as TopSnapshot['experiments'][number][]).filter((e) => typeof e?.id === 'string' && typeof e.name === 'string' && typeof e.start === 'number'),
  };
}

/** Only numbers are drawn as numbers; anything else in `m` is left out rather than thrown on. */
function finiteValues(m: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

function isRow(r: unknown): r is ProcessRow {
  const row = r as Partial<ProcessRow> | null;
  return typeof row === 'object' && row !== null && typeof row.pid === 'number' && typeof row.name === 'string' && typeof row.cmd === 'string' && typeof row.cpu === 'number' && typeof row.rss === 'number' && (row.user === undefined || typeof row.user === 'string');
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
