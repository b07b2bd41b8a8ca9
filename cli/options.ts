// Parsing and checking CLI option values. Every error names the option, the value and
// what is accepted.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIN_INTERVAL_MS } from '../agent/limits.js';
import { INFERENCE_DEFAULT_PORT } from '../shared/inference.js';
import { colorWanted, createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type Logger } from '../shared/log.js';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500`, `500ms`, `0.5s`, `2s`, `30m`, `12h`, `7d` → milliseconds. A bare number is milliseconds. */
export function parseDuration(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(raw);
  if (!m) throw new InvalidArgumentError(`"${raw}" is not a duration: use e.g. 500 (ms), 500ms, 2s, 30m, 12h or 7d`);
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']!);
}

/** A duration that must be above zero (a retention age, not an on/off switch). */
export function parsePositiveDuration(raw: string): number {
  const ms = parseDuration(raw);
  if (ms <= 0) throw new InvalidArgumentError(`"${raw}" is not a duration above zero`);
  return ms;
}

/**
 * `100MB`, `512MiB`, `2GB`, `65536` → bytes. A bare number is bytes; KB/MB/GB are powers of
 * 1000, KiB/MiB/GiB powers of 1024.
 */
export function parseSize(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$/i.exec(raw);
  if (!m) throw new InvalidArgumentError(`"${raw}" is not a size: use e.g. 100MB, 512MiB, 2GB or a number of bytes`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const factor = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }[unit]!;
  const bytes = Math.round(Number(m[1]) * factor);
  if (bytes <= 0) throw new InvalidArgumentError(`"${raw}" is not a size above zero`);
  return bytes;
}

export function parsePort(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`"${raw}" is not a TCP port (0–65535)`);
  return n;
}

export function parsePositiveInt(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`"${raw}" is not a positive integer`);
  return n;
}

/** Resolves when the process is asked to stop (Ctrl-C, systemd, docker stop). */
export function untilSignalled(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

// Options more than one command takes, defined once so flags, env vars and defaults agree.
// A default in milliseconds or bytes is shown in --help as people write it (`.default(1000,
// '1s')`): the description must parse back to the value (test/integration/help-defaults.test.ts).

export function portOption(): Option {
  return new Option('--port <port>', 'TCP port').env('EDGEWATCH_PORT').default(8080).argParser(parsePort);
}

export function hostOption(defaultHost: string, meaning: string): Option {
  return new Option('--host <address>', `address to listen on (${meaning})`).env('EDGEWATCH_HOST').default(defaultHost);
}

export function dataOption(holds: string): Option {
  return new Option('--data <dir>', `data directory (${holds})`).env('EDGEWATCH_DATA').default('./data');
}

export function intervalOption(): Option {
  return new Option('--interval <duration>', `sampling interval: 1s, 500ms (at least ${MIN_INTERVAL_MS} ms)`)
    .env('EDGEWATCH_INTERVAL')
    .default(1000, '1s')
    .argParser(parseDuration);
}

export function logLevelOption(): Option {
  return new Option('--log-level <level>', 'log level (debug and trace also show error stacks)').env('EDGEWATCH_LOG_LEVEL').default('info').choices(LOG_LEVELS);
}

export function logFormatOption(): Option {
  return new Option('--log-format <format>', 'log lines: auto (short human lines when stderr is a terminal, JSON otherwise), json or pretty')
    .env('EDGEWATCH_LOG_FORMAT')
    .default('auto')
    .choices(LOG_FORMATS);
}

export interface LogCliOptions {
  logLevel: string;
  logFormat: LogFormat;
}

/** Adds --log-level and --log-format, as `start`, `hub`, `agent` and `demo` take them. */
export function logOptions(command: Command): Command {
  return command.addOption(logLevelOption()).addOption(logFormatOption());
}

/** Set by createCliLogger: whether the last-resort error handler shows stacks too. */
let stacksWanted = false;

/** The logger of a long-running command, as its --log-level and --log-format say. */
export function createCliLogger(opts: LogCliOptions, component: string): Logger {
  stacksWanted = opts.logLevel === 'debug' || opts.logLevel === 'trace';
  return createLogger(component, opts.logLevel, { format: opts.logFormat });
}

/**
 * What the CLI's last-resort handler prints for an error that ended a command: one line with
 * its message (what a new user needs), and its stack below only at --log-level debug/trace.
 */
export function fatalText(prog: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (!stacksWanted || !(err instanceof Error) || !err.stack) return `${prog}: ${message}\n`;
  // The stack starts with the message already printed: only the frames are new.
  const header = `${err.name}: ${message}`;
  const frames = err.stack.startsWith(header) ? err.stack.slice(header.length).replace(/^\n/, '') : err.stack;
  return `${prog}: ${message}\n${frames}\n`;
}

/**
 * The block `start` (and `demo`) print once everything listens: what to open and how to log
 * in, set apart by blank lines and, on a colour terminal, in bold so it is not lost among
 * the log lines. The text is the same without colour (scripts and tests read it).
 */
export function runningBlock(lines: string[], color: boolean = colorWanted(1)): string {
  const shown = color ? lines.map((l) => `\x1b[1m${l}\x1b[0m`) : lines;
  return `\n${shown.join('\n')}\n\n`;
}

/**
 * Creates the data directory and proves it can be written, so that a wrong --data fails
 * before anything starts, in one line that says which directory and why, rather than as a
 * SQLite or mkdir error later. Throws an Error with that line.
 */
export function ensureWritableDir(dir: string, flag: string, env: string): void {
  const probe = join(dir, `.edgewatch-write-test-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EACCES' || e.code === 'EPERM'
        ? 'permission denied'
        : e.code === 'EROFS'
          ? 'the file system is read-only'
          : e.code === 'EEXIST' || e.code === 'ENOTDIR'
            ? 'a file (not a directory) is in the way'
            : e.code === 'ENOSPC'
              ? 'the disk is full'
              : e.message;
    throw new Error(`cannot write to the data directory ${dir} (${flag}): ${why}; pass ${flag} with a directory you can write, or set ${env}`);
  }
}

/** Where the agent receives inference timings from code on the device; 0 turns that off. */
export function inferencePortOption(): Option {
  return new Option('--inference-port <port>', 'UDP and HTTP port where your code reports inference timings; 0 turns the receiver off')
    .env('EDGEWATCH_INFERENCE_PORT')
    .default(INFERENCE_DEFAULT_PORT)
    .argParser(parsePort);
}

/** Retention flags of the hub (`hub` and `start`): how long each tier of history is kept, and a size cap. */
export interface RetentionCliOptions {
  keepRaw: number;
  keep1m: number;
  keep1h: number;
  maxDbSize?: number;
}

/** Adds the retention flags to a command. */
export function withRetentionOptions(command: Command): Command {
  for (const option of retentionOptions()) command.addOption(option);
  return command;
}

function retentionOptions(): Option[] {
  return [
    new Option('--keep-raw <duration>', 'keep every raw sample this long').env('EDGEWATCH_KEEP_RAW').default(7 * 86_400_000, '7d').argParser(parsePositiveDuration),
    new Option('--keep-1m <duration>', 'keep 1-minute rollups (min/max/mean) this long').env('EDGEWATCH_KEEP_1M').default(90 * 86_400_000, '90d').argParser(parsePositiveDuration),
    new Option('--keep-1h <duration>', 'keep 1-hour rollups this long').env('EDGEWATCH_KEEP_1H').default(730 * 86_400_000, '730d').argParser(parsePositiveDuration),
    new Option('--max-db-size <size>', 'cap the database: beyond this the oldest raw data goes first, then the oldest rollups (e.g. 20GB)')
      .env('EDGEWATCH_MAX_DB_SIZE')
      .argParser(parseSize),
  ];
}

/** The store's retention settings from those flags. */
export function retentionFrom(opts: RetentionCliOptions): { rawMs: number; minuteMs: number; hourMs: number; sizeCapBytes: number | null } {
  return { rawMs: opts.keepRaw, minuteMs: opts.keep1m, hourMs: opts.keep1h, sizeCapBytes: opts.maxDbSize ?? null };
}
