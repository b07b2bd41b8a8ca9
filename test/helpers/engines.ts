// Real time-series engines on loopback for integration tests: Prometheus (Debian package
// `prometheus`, 2.42 here) and single-node VictoriaMetrics (Debian package `victoria-metrics`,
// 1.79 here), each a child process on 127.0.0.1:<free port> with its data in a temp dir.
//
//   describe.skipIf(!engineAvailable('prometheus'))('…', () => {
//     let prom: PrometheusEngine;
//     beforeAll(async () => (prom = await startPrometheus({ scrape: [{ url: `${hub.url}/metrics`, bearerToken }] })));
//     afterAll(() => prom?.close());
//   });
//
// A missing binary skips (engineAvailable → false); with EDGEWATCH_REQUIRE_ENGINES=1 (CI) it is
// an error instead: engineAvailable returns true, so the suite runs and start…() fails naming
// the package to install. Every engine started here is also killed when the test process exits.
//
// Notes on the engines that tests depend on:
// - Prometheus only takes remote-written samples older than its head block's newest time when
//   `storage.tsdb.out_of_order_time_window` is set (PrometheusOptions.outOfOrderWindow): a
//   backlog written after live samples is otherwise refused ("out of order sample", HTTP 400).
//   Samples older than the window are still refused ("too old").
// - Prometheus answers queries from its head at once; VictoriaMetrics buffers fresh samples
//   for about a second before they are searchable, and hides the last `-search.latencyOffset`
//   (30 s by default) from /api/v1/query. Engines started here run with -search.latencyOffset=0s
//   and -search.disableCache; call `flush()` (GET /internal/force_flush) after writing, before
//   reading.
// - VictoriaMetrics stores a resent sample (same series, same timestamp) twice unless
//   -dedup.minScrapeInterval is set: /api/v1/export then lists the timestamp twice. With
//   `dedup: '1ms'` exact resends collapse to one sample and nothing else is thinned; a larger
//   interval keeps only the last sample of each interval per series (downsampling).
//   Prometheus drops an exact resend itself (same timestamp and value: no error, no duplicate).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './processes.js';

export type EngineKind = 'prometheus' | 'victoria-metrics';

/** Binary and Debian package of each engine; EDGEWATCH_PROMETHEUS_BIN / EDGEWATCH_VICTORIA_METRICS_BIN override the binary. */
const ENGINES: Record<EngineKind, { bin: string; pkg: string; versionArg: string }> = {
  prometheus: { bin: process.env.EDGEWATCH_PROMETHEUS_BIN ?? 'prometheus', pkg: 'prometheus', versionArg: '--version' },
  'victoria-metrics': { bin: process.env.EDGEWATCH_VICTORIA_METRICS_BIN ?? 'victoria-metrics', pkg: 'victoria-metrics', versionArg: '-version' },
};

/** EDGEWATCH_REQUIRE_ENGINES=1: a missing engine fails its tests instead of skipping them. */
export const REQUIRE_ENGINES = process.env.EDGEWATCH_REQUIRE_ENGINES === '1';

const found = new Map<EngineKind, string | null>();

/** The engine's executable (absolute path), or null when it is not installed. */
export function engineBinary(kind: EngineKind): string | null {
  if (found.has(kind)) return found.get(kind)!;
  const { bin, versionArg } = ENGINES[kind];
  const candidates = bin.includes('/') ? [bin] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, bin));
  let path: string | null = null;
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    // It must also run (not a broken link, a binary for another architecture).
    if (spawnSync(candidate, [versionArg], { stdio: 'ignore', timeout: 10_000 }).status === 0) path = candidate;
    break;
  }
  found.set(kind, path);
  return path;
}

/**
 * Whether tests of this engine should run: it is installed, or EDGEWATCH_REQUIRE_ENGINES=1
 * (then starting it fails, naming the package). For describe.skipIf(!engineAvailable(…)).
 */
export function engineAvailable(kind: EngineKind): boolean {
  return REQUIRE_ENGINES || engineBinary(kind) !== null;
}

function requireBinary(kind: EngineKind): string {
  const path = engineBinary(kind);
  if (path) return path;
  const { bin, pkg } = ENGINES[kind];
  throw new Error(
    `${bin} is not installed (or does not run): install the Debian package "${pkg}" (apt-get install ${pkg}), ` +
      `point EDGEWATCH_${kind === 'prometheus' ? 'PROMETHEUS' : 'VICTORIA_METRICS'}_BIN at it, or unset EDGEWATCH_REQUIRE_ENGINES to skip these tests`,
  );
}

// ---------------------------------------------------------------------------------------------
// The process: start on a fixed port, wait until ready, stop / restart / kill, logs kept.

const running = new Set<ChildProcess>();
let exitHookSet = false;

/** Kills whatever is still running when the test process ends (a test that forgot close()). */
function ensureExitHook(): void {
  if (exitHookSet) return;
  exitHookSet = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

const MAX_LOG = 200_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What Engine needs from each kind: how to run it and how to tell it is ready. */
interface EngineSpec {
  kind: EngineKind;
  args: (port: number) => string[];
  readyPath: string;
}

export abstract class Engine {
  /** http://127.0.0.1:<port>; stays the same across stop()/restart(). */
  readonly url: string;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private log = '';
  private removed = false;

  protected constructor(
    private readonly spec: EngineSpec,
    readonly port: number,
    /** Temp dir holding the data dir (and Prometheus' config); removed by close(). */
    readonly dir: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Where receivers take Prometheus remote write (snappy-compressed protobuf). */
  get remoteWriteUrl(): string {
    return `${this.url}/api/v1/write`;
  }

  /** The process id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isRunning(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The engine's stdout and stderr so far (its last 200 kB), across restarts. */
  output(): string {
    return this.log;
  }

  /** Starts the process (again, on the same port and data dir) and waits until it is ready. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.isRunning) return;
    if (this.removed) throw new Error(`${this.spec.kind}: closed`);
    const bin = requireBinary(this.spec.kind);
    ensureExitHook();
    const child = spawn(bin, this.spec.args(this.port), { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    this.child = child;
    const keep = (chunk: Buffer): void => {
      this.log += chunk.toString();
      if (this.log.length > MAX_LOG) this.log = this.log.slice(-MAX_LOG / 2);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        running.delete(child);
        resolve();
      });
      child.once('error', (err) => {
        this.log += `\nspawn error: ${err.message}\n`;
        running.delete(child);
        resolve();
      });
    });
    const deadline = Date.now() + timeoutMs;
    const readyUrl = `${this.url}${this.spec.readyPath}`;
    while (Date.now() < deadline) {
      if (!this.isRunning) throw new Error(`${this.spec.kind} exited while starting (port ${this.port}):\n${this.log.slice(-4000)}`);
      try {
        const res = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    await this.kill();
    throw new Error(`${this.spec.kind} was not ready at ${readyUrl} within ${timeoutMs} ms:\n${this.log.slice(-4000)}`);
  }

  /** SIGTERM (a clean shutdown: Prometheus and VictoriaMetrics flush to disk), SIGKILL after `graceMs`. Keeps the data dir. */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || !this.isRunning) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL: a crash. Keeps the data dir (what was not yet on disk is lost, as in a real crash). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.isRunning) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** stop() then start(): same port, same data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops it and removes its temp dir. */
  async close(): Promise<void> {
    await this.stop(5000);
    if (!this.removed) rmSync(this.dir, { recursive: true, force: true });
    this.removed = true;
  }

  // ---- HTTP -------------------------------------------------------------------------------

  /** GET (params in the query string) or POST (form body) to the engine; the body as text. */
  protected async request(path: string, params: Params = {}, method: 'GET' | 'POST' = 'GET', timeoutMs = 20_000): Promise<string> {
    const body = formBody(params);
    const url = method === 'GET' && body.toString() !== '' ? `${this.url}${path}?${body.toString()}` : `${this.url}${path}`;
    const res = await fetch(url, {
      method,
      signal: AbortSignal.timeout(timeoutMs),
      ...(method === 'POST' ? { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${this.spec.kind} ${method} ${path} ${JSON.stringify(params)}: HTTP ${res.status}: ${text.slice(0, 2000)}`);
    return text;
  }

  /** The Prometheus HTTP API envelope's `data`, or an error with the engine's message. */
  protected async api<T>(path: string, params: Params, method: 'GET' | 'POST' = 'POST'): Promise<T> {
    const text = await this.request(path, params, method);
    const parsed = JSON.parse(text) as { status: string; data?: T; error?: string; errorType?: string };
    if (parsed.status !== 'success') throw new Error(`${this.spec.kind} ${path}: ${parsed.errorType ?? 'error'}: ${parsed.error ?? text.slice(0, 500)}`);
    return parsed.data as T;
  }

  /** GET /api/v1/query: an instant query at `time` (Unix seconds or ms as a Date; default now). */
  async query(expr: string, time?: Date | number): Promise<QueryResult> {
    return this.api<QueryResult>('/api/v1/query', { query: expr, time: time === undefined ? undefined : unixSeconds(time) });
  }

  /** GET /api/v1/query_range between `start` and `end` (Date or Unix seconds), every `stepS` seconds. */
  async queryRange(expr: string, start: Date | number, end: Date | number, stepS: number): Promise<MatrixSeries[]> {
    const data = await this.api<QueryResult>('/api/v1/query_range', { query: expr, start: unixSeconds(start), end: unixSeconds(end), step: String(stepS) });
    if (data.resultType !== 'matrix') throw new Error(`query_range ${expr}: result type ${data.resultType}`);
    return data.result;
  }

  /** GET /api/v1/series: the label sets of the series that match any selector. */
  async series(match: string | readonly string[], start?: Date | number, end?: Date | number): Promise<Record<string, string>[]> {
    return this.api<Record<string, string>[]>('/api/v1/series', { 'match[]': [match].flat(), start: start === undefined ? undefined : unixSeconds(start), end: end === undefined ? undefined : unixSeconds(end) });
  }

  /** GET /api/v1/label/<name>/values. */
  async labelValues(label: string, match?: string): Promise<string[]> {
    return this.api<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values`, { 'match[]': match }, 'GET');
  }
}

type Params = Record<string, string | readonly string[] | undefined>;

function formBody(params: Params): URLSearchParams {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const v of [value].flat()) body.append(key, v);
  }
  return body;
}

function unixSeconds(t: Date | number): string {
  return String(t instanceof Date ? t.getTime() / 1000 : t);
}

/** One series of an instant query: its labels and [Unix seconds, value as text]. */
export interface VectorSeries {
  metric: Record<string, string>;
  value: [number, string];
}
/** One series of a range query: its labels and [Unix seconds, value as text] per step. */
export interface MatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}
export type QueryResult =
  | { resultType: 'vector'; result: VectorSeries[] }
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'scalar' | 'string'; result: [number, string] };

/** Series an instant or range query returned (a scalar counts as one). */
export function seriesCount(result: QueryResult | MatrixSeries[]): number {
  if (Array.isArray(result)) return result.length;
  return result.resultType === 'scalar' || result.resultType === 'string' ? 1 : result.result.length;
}

// ---------------------------------------------------------------------------------------------
// Prometheus

export interface ScrapeTarget {
  /** The full URL of the metrics page: http://127.0.0.1:<port>/metrics. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` (an edgewatch API token, ewa_…). */
  bearerToken?: string;
  /** job label; default `edgewatch`, then `edgewatch_2`… for more targets. */
  job?: string;
  /** Scrape interval in seconds (default 1). */
  intervalS?: number;
  /** Extra target labels, e.g. { site: 'north' }. */
  labels?: Record<string, string>;
}

/** Where and whether to start: a fixed port (the receiver's URL known before it runs), or not started yet. */
export interface EngineStartOptions {
  /** Listen on this loopback port instead of a free one (no retry on another port). */
  port?: number;
  /** false: create the engine (port, dir, config) without starting it; call start() later. Default true. */
  start?: boolean;
}

export interface PrometheusOptions extends EngineStartOptions {
  /** Targets to scrape, one job each. */
  scrape?: readonly ScrapeTarget[];
  /** storage.tsdb.out_of_order_time_window, e.g. '2h': lets remote write backfill older samples. */
  outOfOrderWindow?: string;
  /** --enable-feature=… (e.g. 'native-histograms', 'exemplar-storage'). */
  features?: readonly string[];
  /** --web.enable-remote-write-receiver; default true. */
  remoteWriteReceiver?: boolean;
  /** --storage.tsdb.retention.time; default 100y, so backfilled old samples are kept. */
  retention?: string;
  /** Anything else for the command line. */
  extraArgs?: readonly string[];
}

/** Prometheus' config file for the options, as JSON (which YAML, and so Prometheus, reads). */
export function prometheusConfig(opts: PrometheusOptions): Record<string, unknown> {
  const config: Record<string, unknown> = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: (opts.scrape ?? []).map((t, idx) => {
      const target = new URL(t.url);
      const interval = `${t.intervalS ?? 1}s`;
      return {
        job_name: t.job ?? (idx === 0 ? 'edgewatch' : `edgewatch_${idx + 1}`),
        scrape_interval: interval,
        scrape_timeout: interval,
        scheme: target.protocol.replace(':', ''),
        metrics_path: target.pathname,
        ...(target.search ? { params: Object.fromEntries([...target.searchParams].map(([k, v]) => [k, [v]])) } : {}),
        ...(t.bearerToken ? { authorization: { type: 'Bearer', credentials: t.bearerToken } } : {}),
        static_configs: [{ targets: [target.host], ...(t.labels ? { labels: t.labels } : {}) }],
      };
    }),
  };
  if (opts.outOfOrderWindow) config.storage = { tsdb: { out_of_order_time_window: opts.outOfOrderWindow } };
  return config;
}

export class PrometheusEngine extends Engine {
  private constructor(port: number, dir: string, spec: EngineSpec) {
    super(spec, port, dir);
  }

  /** Creates the temp dir and config and starts Prometheus (unless `start: false`); resolves when /-/ready answers. */
  static async start(opts: PrometheusOptions = {}): Promise<PrometheusEngine> {
    requireBinary('prometheus');
    const dir = mkdtempSync(join(tmpdir(), 'edgewatch-prometheus-'));
    const configFile = join(dir, 'prometheus.yml');
    writeFileSync(configFile, `${JSON.stringify(prometheusConfig(opts), null, 2)}\n`);
    const spec: EngineSpec = {
      kind: 'prometheus',
      readyPath: '/-/ready',
      args: (port) => [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--storage.tsdb.retention.time=${opts.retention ?? '100y'}`,
        `--web.listen-address=127.0.0.1:${port}`,
        ...(opts.remoteWriteReceiver === false ? [] : ['--web.enable-remote-write-receiver']),
        ...(opts.features?.length ? [`--enable-feature=${opts.features.join(',')}`] : []),
        '--log.level=info',
        ...(opts.extraArgs ?? []),
      ],
    };
    return launch(dir, opts, (port) => new PrometheusEngine(port, dir, spec));
  }

  /** GET /api/v1/targets: the active targets with their health ('up', 'down', 'unknown') and last error. */
  async targets(): Promise<{ scrapeUrl: string; health: string; lastError: string; lastScrape: string; labels: Record<string, string> }[]> {
    const data = await this.api<{ activeTargets: { scrapeUrl: string; health: string; lastError: string; lastScrape: string; labels: Record<string, string> }[] }>('/api/v1/targets', {}, 'GET');
    return data.activeTargets;
  }

  /** Resolves once every target has been scraped successfully at least `scrapes` times (the sum of its `up` samples). */
  async waitForScrapes(scrapes: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const targets = await this.targets().catch(() => []);
      if (targets.length > 0) {
        const ok = await this.query('sum_over_time(up[1h])').catch(() => null);
        const done = ok?.resultType === 'vector' && ok.result.length === targets.length && ok.result.every((s) => Number(s.value[1]) >= scrapes);
        if (done && targets.every((t) => t.health === 'up')) return;
        last = JSON.stringify({ targets: targets.map((t) => ({ url: t.scrapeUrl, health: t.health, error: t.lastError })), successfulScrapes: ok?.result });
      }
      await sleep(250);
    }
    throw new Error(`Prometheus did not complete ${scrapes} scrapes of every target within ${timeoutMs} ms: ${last}\n${this.output().slice(-2000)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// VictoriaMetrics

export interface VictoriaMetricsOptions extends EngineStartOptions {
  /** -dedup.minScrapeInterval: '1ms' collapses resends of a sample (same series and timestamp); unset keeps duplicates. */
  dedup?: string;
  /** -retentionPeriod; default 100y, so backfilled old samples are kept. */
  retention?: string;
  /** Anything else for the command line. */
  extraArgs?: readonly string[];
}

/** One series of /api/v1/export: its labels and its raw samples (timestamps in ms). */
export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export class VictoriaMetricsEngine extends Engine {
  private constructor(port: number, dir: string, spec: EngineSpec) {
    super(spec, port, dir);
  }

  /** Creates the temp dir and starts VictoriaMetrics (unless `start: false`); resolves when /health answers. */
  static async start(opts: VictoriaMetricsOptions = {}): Promise<VictoriaMetricsEngine> {
    requireBinary('victoria-metrics');
    const dir = mkdtempSync(join(tmpdir(), 'edgewatch-victoria-metrics-'));
    const spec: EngineSpec = {
      kind: 'victoria-metrics',
      readyPath: '/health',
      args: (port) => [
        `-httpListenAddr=127.0.0.1:${port}`,
        `-storageDataPath=${join(dir, 'data')}`,
        `-retentionPeriod=${opts.retention ?? '100y'}`,
        // Just-written samples visible to queries at once, and no cached answers from before they came.
        '-search.latencyOffset=0s',
        '-search.disableCache',
        ...(opts.dedup ? [`-dedup.minScrapeInterval=${opts.dedup}`] : []),
        '-loggerLevel=INFO',
        ...(opts.extraArgs ?? []),
      ],
    };
    return launch(dir, opts, (port) => new VictoriaMetricsEngine(port, dir, spec));
  }

  /** GET /internal/force_flush: makes every sample received so far searchable (export, query). */
  async flush(): Promise<void> {
    await this.request('/internal/force_flush');
  }

  /**
   * POST /api/v1/export: every raw sample of the matching series (JSON lines), optionally
   * between `start` and `end` (Date or Unix seconds). Flushes first unless `flush: false`.
   */
  async export(match: string | readonly string[], range: { start?: Date | number; end?: Date | number; flush?: boolean } = {}): Promise<ExportedSeries[]> {
    if (range.flush !== false) await this.flush();
    const text = await this.request('/api/v1/export', { 'match[]': [match].flat(), start: range.start === undefined ? undefined : unixSeconds(range.start), end: range.end === undefined ? undefined : unixSeconds(range.end) }, 'POST', 60_000);
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as ExportedSeries);
  }

  /** Samples (values) across every matching series, by export. */
  async sampleCount(match: string | readonly string[]): Promise<number> {
    return (await this.export(match)).reduce((sum, s) => sum + s.values.length, 0);
  }
}

/** The engine on `opts.port` or a free port, started unless `opts.start` is false. */
async function launch<E extends Engine>(dir: string, opts: EngineStartOptions, make: (port: number) => E): Promise<E> {
  if (opts.port === undefined && opts.start !== false) return startOnFreePort(dir, make);
  const engine = make(opts.port ?? (await freePort()));
  if (opts.start === false) return engine;
  try {
    await engine.start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return engine;
}

/**
 * Picks a free port and starts the engine on it; tries again with another port when the
 * engine could not bind (another process took the port between the probe and the bind).
 */
async function startOnFreePort<E extends Engine>(dir: string, make: (port: number) => E): Promise<E> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const engine = make(await freePort());
    try {
      await engine.start();
      return engine;
    } catch (err) {
      lastError = err;
      await engine.kill();
      if (!/address already in use|bind/i.test(String(err))) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

export const startPrometheus = (opts?: PrometheusOptions): Promise<PrometheusEngine> => PrometheusEngine.start(opts);
export const startVictoriaMetrics = (opts?: VictoriaMetricsOptions): Promise<VictoriaMetricsEngine> => VictoriaMetricsEngine.start(opts);

/** A label set without the labels a scraping engine adds itself (job, instance). */
export function withoutTargetLabels(metric: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metric).filter(([k]) => k !== 'job' && k !== 'instance'));
}
