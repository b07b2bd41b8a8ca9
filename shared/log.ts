// Structured logs with levels on stderr (stdout stays free for command output such as
// `edgewatch parse`). Set the level with EDGEWATCH_LOG_LEVEL or --log-level.
//
// Two formats over the same pino records: JSON, one object per line (for journald, docker
// logs and anything that parses them), and short human lines for a person at a terminal
// ("20:03:12 WARN  agent/inference inference receiver is off … port=7262"). `auto`, the
// default, picks human lines when stderr is a TTY; EDGEWATCH_LOG_FORMAT or --log-format
// overrides it.
//
// The human format is a small synchronous formatter over pino's own JSON line rather than
// pino-pretty: pino-pretty runs in a worker thread (log lines of a crash can be lost with it,
// and it is a second process-wide moving part) and brings a dozen dependencies into the
// one-file agent bundle. Parsing back one short line per log call costs microseconds, and the
// formatter is the only place that has to keep untrusted text (device names, error messages
// from a board) from writing escape sequences to the operator's terminal.
import { isatty } from 'node:tty';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  /** auto (default: EDGEWATCH_LOG_FORMAT, else pretty when stderr is a TTY), json or pretty. */
  format?: string;
  /** Where lines go; stderr (fd 2) by default. Tests pass their own. */
  stream?: { write(line: string): unknown };
  /** Colours in human lines; by default when stderr is a TTY and NO_COLOR is not set. */
  color?: boolean;
}

export function createLogger(component: string, level: string = process.env.EDGEWATCH_LOG_LEVEL ?? 'info', options: LoggerOptions = {}): Logger {
  const valid = (LOG_LEVELS as readonly string[]).includes(level) ? level : 'info';
  const target = options.stream ?? pino.destination({ fd: 2, sync: true });
  if (resolveLogFormat(options.format) === 'json') return pino({ level: valid, base: { component } }, target as DestinationStream);
  const pretty: PrettyOptions = { color: options.color ?? colorWanted(2), stacks: valid === 'debug' || valid === 'trace' };
  return pino({ level: valid, base: { component } }, { write: (line: string) => void target.write(formatLogLine(line, pretty)) });
}

/** A logger that drops everything: for tests and for parsers run from the CLI. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * json or pretty, from an explicit format, else EDGEWATCH_LOG_FORMAT, else whether stderr is a
 * terminal. An unknown name counts as auto here: the CLI refuses it with the choices before.
 */
export function resolveLogFormat(format: string | undefined = process.env.EDGEWATCH_LOG_FORMAT, stderrIsTty: boolean = isatty(2)): 'json' | 'pretty' {
  const f = (format ?? 'auto').trim().toLowerCase();
  if (f === 'json' || f === 'pretty') return f;
  return stderrIsTty ? 'pretty' : 'json';
}

/** Colours on a terminal, unless NO_COLOR (https://no-color.org: any non-empty value) says no. */
export function colorWanted(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isatty(fd);
}

export interface PrettyOptions {
  color: boolean;
  /** Error stacks under the line (debug and trace); otherwise the error's message only. */
  stacks: boolean;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
// SGR colours: red for error and fatal, yellow warn, green info, grey below.
const LEVEL_COLORS: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '1;31' };
/** Fields that are the line's frame, not its content. */
const FRAME_KEYS = new Set(['level', 'time', 'msg', 'component', 'part', 'pid', 'hostname', 'v']);
/** Values longer than this are cut (with …): a line should fit a terminal, the JSON format keeps it all. */
const MAX_VALUE_CHARS = 100;
const MAX_ARRAY_ITEMS = 8;

const sgr = (on: boolean, code: string, text: string): string => (on ? `\x1b[${code}m${text}\x1b[0m` : text);

/**
 * One pino JSON line → one human line (plus the stack lines of an error with `stacks`),
 * ending in a newline. A line that is not JSON (it should not happen) is passed on escaped.
 */
export function formatLogLine(line: string, opts: PrettyOptions): string {
  let rec: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return `${escapeControl(line.trimEnd())}\n`;
    rec = parsed as Record<string, unknown>;
  } catch {
    return `${escapeControl(line.trimEnd())}\n`;
  }
  const level = typeof rec.level === 'number' ? rec.level : 30;
  const levelName = LEVEL_NAMES[level] ?? `L${level}`;
  const time = typeof rec.time === 'number' ? clock(new Date(rec.time)) : '--:--:--';
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  const where = [rec.component, rec.part].filter((v): v is string => typeof v === 'string' && v !== '').join('/');

  const fields: string[] = [];
  const stacks: string[] = [];
  for (const [key, value] of Object.entries(rec)) {
    if (FRAME_KEYS.has(key) || value === undefined) continue;
    if (isErrorLike(value)) {
      const text = errorText(value, msg);
      if (text !== null) fields.push(`${sgr(opts.color, '2', escapeControl(key))}=${quote(text)}`);
      if (opts.stacks && typeof value.stack === 'string') stacks.push(value.stack);
      continue;
    }
    fields.push(`${sgr(opts.color, '2', escapeControl(key))}=${quote(shortValue(value))}`);
  }

  const head = `${sgr(opts.color, '2', time)} ${sgr(opts.color, LEVEL_COLORS[level] ?? '0', levelName.padEnd(5))}`;
  const body = [where ? sgr(opts.color, '36', escapeControl(where)) : '', escapeControl(msg), ...fields].filter(Boolean).join(' ');
  const tail = stacks.flatMap((s) => s.split('\n').map((l) => `    ${escapeControl(l)}`));
  return [`${head} ${body}`, ...tail].join('\n') + '\n';
}

function clock(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

interface ErrorLike {
  message: string;
  stack?: unknown;
  code?: unknown;
}

/** pino's err serializer gives { type, message, stack, code?… }. */
function isErrorLike(v: unknown): v is ErrorLike {
  return v !== null && typeof v === 'object' && typeof (v as ErrorLike).message === 'string' && ('stack' in v || 'type' in v);
}

/**
 * What the error adds to the message, or null when the message says it all already. pino
 * joins an error and its causes as "outer: inner"; a log message usually repeats the outer
 * part, so only the causes it does not repeat are shown.
 */
function errorText(err: ErrorLike, msg: string): string | null {
  const message = err.message;
  if (message === '' || msg.includes(message)) return null;
  const parts = message.split(': ');
  for (let i = parts.length - 1; i > 0; i--) {
    if (msg.includes(parts.slice(0, i).join(': '))) return parts.slice(i).join(': ');
  }
  const code = typeof err.code === 'string' && !message.includes(err.code) ? ` (${err.code})` : '';
  return message + code;
}

function shortValue(v: unknown): string {
  if (typeof v === 'string') return cut(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object')) {
    const shown = v.slice(0, MAX_ARRAY_ITEMS).map(String).join(',');
    return cut(v.length > MAX_ARRAY_ITEMS ? `${shown},+${v.length - MAX_ARRAY_ITEMS}` : shown);
  }
  return cut(JSON.stringify(v) ?? String(v));
}

function cut(s: string): string {
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS - 1)}…` : s;
}

/** Quoted when it has a space, a quote or nothing, so that k=v pairs stay apart. */
function quote(s: string): string {
  const safe = escapeControl(s);
  return safe === '' || /[\s"=]/.test(safe) ? `"${safe.replace(/"/g, '\\"')}"` : safe;
}

/**
 * Untrusted text (a device name, a path, an error from a board) made safe for a terminal: C0
 * and C1 control characters (ESC, CSI 0x9b, BEL, CR, newlines…), DEL, and the Unicode
 * bidirectional overrides and isolates that reorder what is shown, each as a visible \xNN or
 * \u{NNNN}. Nothing else changes, so ordinary UTF-8 names stay readable.
 */
export function escapeControl(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}
