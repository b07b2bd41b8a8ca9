// Checks alert API input. Each error names the field, says what was wrong and what is accepted,
// so a script author can fix a request from the 400 alone.
import { z } from 'zod';
import type { AlertRuleInput, AlertSettings } from '../../../shared/alerts.js';
import { DEVICE_ID_RE } from '../../../shared/protocol.js';
import { BadRequest } from '../api.js';

/** A metric name, or one with `*` for whole segments: `gpu.*.temp`, `fs.*.util`. */
export const METRIC_GLOB_RE = /^(\*|[a-z0-9_]+)(\.(\*|[a-z0-9_]+))*$/;
export const MAX_FOR_MS = 7 * 24 * 3_600_000;
const MAX_NAME = 100;
const MAX_URL = 2000;

const common = {
  name: z
    .string({ error: 'must be text' })
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_NAME, `must be at most ${MAX_NAME} characters`),
  enabled: z.boolean({ error: 'must be true or false' }).default(true),
  device: z
    .string({ error: 'must be a device id, or null for every device' })
    .regex(DEVICE_ID_RE, 'must be a device id (1–64 characters of [A-Za-z0-9_.-]), or null for every device')
    .nullable()
    .default(null),
  forMs: z
    .number({ error: 'must be a number of milliseconds' })
    .int('must be a whole number of milliseconds')
    .min(0, 'must not be negative')
    .max(MAX_FOR_MS, `must be at most ${MAX_FOR_MS} (7 days)`),
};

const ThresholdSchema = z.strictObject(
  {
    kind: z.literal('threshold'),
    ...common,
    metric: z
      .string({ error: 'must be text: a metric name such as cpu.util, or a pattern such as gpu.*.temp' })
      .max(128, 'must be at most 128 characters')
      .regex(METRIC_GLOB_RE, 'must be a metric name such as cpu.util, or a pattern with * for whole segments such as gpu.*.temp'),
    op: z.enum(['above', 'below'], { error: 'must be "above" or "below"' }),
    value: z.number({ error: 'must be a number' }).finite('must be a finite number'),
  },
  { error: unknownField },
);

const OfflineSchema = z.strictObject({ kind: z.literal('offline'), ...common }, { error: unknownField });

const RuleSchema = z.discriminatedUnion('kind', [ThresholdSchema, OfflineSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'must be "threshold" or "offline"' : undefined),
});

const SettingsSchema = z.strictObject(
  {
    webhookUrl: z
      .string({ error: 'must be an http:// or https:// URL, or null for none' })
      .trim()
      .max(MAX_URL, `must be at most ${MAX_URL} characters`)
      .nullable()
      .transform((s) => (s === '' ? null : s))
      .refine((s) => s === null || isHttpUrl(s), 'must be an http:// or https:// URL, or null for none'),
  },
  { error: unknownField },
);

function unknownField(issue: { code?: string; keys?: string[] }): string | undefined {
  if (issue.code !== 'unrecognized_keys' || !issue.keys) return undefined;
  return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}`;
}

export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

export function parseRuleInput(body: unknown): AlertRuleInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('the body must be a JSON object: {"name", "kind": "threshold"|"offline", "metric", "op", "value", "forMs", "device", "enabled"}');
  }
  return check(RuleSchema, body) as AlertRuleInput;
}

export function parseSettings(body: unknown): AlertSettings {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('the body must be a JSON object: {"webhookUrl": "https://…" or null}');
  return check(SettingsSchema, body);
}

/** A URL to test: the body's webhookUrl, else undefined (use the saved one). */
export function parseTestTarget(body: unknown): string | undefined {
  if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0)) return undefined;
  return parseSettings(body).webhookUrl ?? undefined;
}

function check<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
  throw new BadRequest(message);
}
