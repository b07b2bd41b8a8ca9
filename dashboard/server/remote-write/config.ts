// A Prometheus remote-write destination as configured (hub.json `remoteWrite`, or
// `--remote-write URL`), checked with zod, and resolved once at hub start into what the sender
// uses: final headers, the CA read from its file, filters. Secrets (passwords, tokens, header
// values) stay inside the resolved headers: nothing here logs them or puts them in an error.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Samples per request unless the destination says (Prometheus' own default is 2000 too). */
export const DEFAULT_BATCH_SAMPLES = 2000;
/**
 * Sending rate unless the destination says. A cap so a backlog drains without starving ingest,
 * and above what one hub takes in live (~240,000 values/s at its limit, 8,000/s for 100 boards
 * of 80 values at 1 Hz). At the 183 ms of hub CPU per 100k values `npm run bench -- --only
 * remote-write` measured, 200,000/s is about 37 % of a core.
 */
export const DEFAULT_MAX_SAMPLES_PER_SECOND = 200_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MIN_BACKOFF_MS = 500;
export const DEFAULT_MAX_BACKOFF_MS = 30_000;
/** How long a sender waits for a part-filled request to fill before it sends it anyway. */
export const DEFAULT_BATCH_WAIT_MS = 1000;

/** Headers the sender sets itself: the protocol's, and auth (use basicAuth or bearerToken). */
const RESERVED_HEADERS = ['content-encoding', 'content-type', 'content-length', 'x-prometheus-remote-write-version', 'user-agent', 'host', 'authorization'];

/** A metric glob as alert rules take them: catalog names with `*` standing for one segment. */
const metricGlob = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_*:-]+(\.[A-Za-z0-9_*:-]+)*$/, 'a metric name or glob such as cpu.util, gpu.*.temp or net.*.*');

export const RemoteWriteConfigSchema = z
  .strictObject({
    /** The receiver's write endpoint, e.g. http://prometheus:9090/api/v1/write. */
    url: z
      .string()
      .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'an http:// or https:// URL, e.g. http://prometheus:9090/api/v1/write'),
    /** Names it in the status, logs and its queue cursor; default its host:port. */
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, and . _ : - only')
      .optional(),
    basicAuth: z.strictObject({ username: z.string().min(1), password: z.string() }).optional(),
    bearerToken: z.string().min(1).optional(),
    /** Extra request headers, e.g. X-Scope-OrgID for Mimir. */
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name (letters, digits, -)'), z.string()).optional(),
    /** PEM file of the CA that signed an https:// receiver's certificate (a private CA). */
    ca: z.string().min(1).optional(),
    /** Only these metrics (globs); default all. */
    include: z.array(metricGlob).optional(),
    /** Never these metrics (globs), even when included. */
    exclude: z.array(metricGlob).optional(),
    /** Only these device ids; default all. */
    devices: z.array(z.string().min(1)).optional(),
    /** Add the device's display name as a `name` label (it may change: a new series then). */
    nameLabel: z.boolean().optional(),
    maxSamplesPerSecond: z.number().int().positive().optional(),
    batchSamples: z.number().int().min(1).max(100_000).optional(),
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
    minBackoffMs: z.number().int().min(1).max(600_000).optional(),
    maxBackoffMs: z.number().int().min(1).max(3_600_000).optional(),
    batchWaitMs: z.number().int().min(0).max(60_000).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.basicAuth && c.bearerToken) ctx.addIssue({ code: 'custom', path: ['bearerToken'], message: 'give basicAuth or bearerToken, not both' });
    const url = URL.canParse(c.url) ? new URL(c.url) : null;
    if (url && (url.username || url.password) && (c.basicAuth || c.bearerToken)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'the URL carries a user and password and basicAuth/bearerToken is given too: keep one' });
    }
    for (const name of Object.keys(c.headers ?? {})) {
      if (RESERVED_HEADERS.includes(name.toLowerCase())) {
        ctx.addIssue({ code: 'custom', path: ['headers', name], message: `${name} is set by edgewatch (use basicAuth or bearerToken for Authorization)` });
      }
    }
    if (c.minBackoffMs !== undefined && c.maxBackoffMs !== undefined && c.minBackoffMs > c.maxBackoffMs) {
      ctx.addIssue({ code: 'custom', path: ['minBackoffMs'], message: `minBackoffMs ${c.minBackoffMs} is above maxBackoffMs ${c.maxBackoffMs}` });
    }
  });
export type RemoteWriteConfig = z.input<typeof RemoteWriteConfigSchema>;

/** A destination ready to send to. */
export interface Destination {
  name: string;
  /** Where requests go (credentials taken out of it, into `headers`). */
  url: URL;
  /** The URL without user and password: the one shown and logged. */
  displayUrl: string;
  /** Auth and extra headers; the sender adds the protocol's. Secret: never log. */
  headers: Record<string, string>;
  ca?: Buffer;
  include: readonly string[] | null;
  exclude: readonly string[];
  devices: ReadonlySet<string> | null;
  nameLabel: boolean;
  maxSamplesPerSecond: number;
  batchSamples: number;
  timeoutMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  batchWaitMs: number;
}

/**
 * Checks and resolves the destinations; throws one message naming each problem (the
 * destination, the key and what is accepted, never a secret's value). Reads CA files now, so
 * a wrong path fails the hub's start rather than the first request.
 */
export function resolveDestinations(configs: readonly unknown[]): Destination[] {
  const out: Destination[] = [];
  const problems: string[] = [];
  configs.forEach((raw, idx) => {
    const parsed = RemoteWriteConfigSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`remoteWrite[${idx}]${issue.path.map((p) => `.${String(p)}`).join('')}: ${issue.message}`);
      return;
    }
    try {
      out.push(resolveOne(parsed.data));
    } catch (err) {
      problems.push(`remoteWrite[${idx}]: ${(err as Error).message}`);
    }
  });
  const seen = new Map<string, number>();
  out.forEach((d, idx) => {
    const before = seen.get(d.name);
    if (before !== undefined) problems.push(`remoteWrite: destinations ${before} and ${idx} are both named "${d.name}": give each a distinct "name"`);
    seen.set(d.name, idx);
  });
  if (problems.length > 0) throw new Error(`invalid remote-write configuration:\n  ${problems.join('\n  ')}`);
  return out;
}

function resolveOne(c: z.output<typeof RemoteWriteConfigSchema>): Destination {
  const url = new URL(c.url);
  const headers: Record<string, string> = { ...c.headers };
  let basic = c.basicAuth;
  if (url.username || url.password) {
    basic = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    url.username = '';
    url.password = '';
  }
  if (basic) headers.Authorization = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
  if (c.bearerToken) headers.Authorization = `Bearer ${c.bearerToken}`;
  let ca: Buffer | undefined;
  if (c.ca !== undefined) {
    if (url.protocol !== 'https:') throw new Error(`ca ${c.ca} is given but the url is not https://`);
    try {
      ca = readFileSync(c.ca);
    } catch (err) {
      throw new Error(`cannot read the ca file ${c.ca}: ${(err as Error).message}`);
    }
    if (!ca.toString('utf8').includes('-----BEGIN CERTIFICATE-----')) throw new Error(`ca file ${c.ca} is not a PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  const minBackoffMs = c.minBackoffMs ?? Math.min(DEFAULT_MIN_BACKOFF_MS, c.maxBackoffMs ?? DEFAULT_MIN_BACKOFF_MS);
  return {
    name: c.name ?? url.host,
    url,
    displayUrl: url.toString(),
    headers,
    ...(ca ? { ca } : {}),
    include: c.include && c.include.length > 0 ? c.include : null,
    exclude: c.exclude ?? [],
    devices: c.devices && c.devices.length > 0 ? new Set(c.devices) : null,
    nameLabel: c.nameLabel ?? false,
    maxSamplesPerSecond: c.maxSamplesPerSecond ?? DEFAULT_MAX_SAMPLES_PER_SECOND,
    batchSamples: c.batchSamples ?? DEFAULT_BATCH_SAMPLES,
    timeoutMs: c.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    minBackoffMs,
    maxBackoffMs: Math.max(minBackoffMs, c.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS),
    batchWaitMs: c.batchWaitMs ?? DEFAULT_BATCH_WAIT_MS,
  };
}
