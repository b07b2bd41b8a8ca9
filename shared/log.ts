// Structured logs with levels, one JSON object per line on stderr (stdout stays free for
// command output such as `edgewatch parse`). Set the level with EDGEWATCH_LOG_LEVEL or --log-level.
import { pino, type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(component: string, level: string = process.env.EDGEWATCH_LOG_LEVEL ?? 'info'): Logger {
  const valid = (LOG_LEVELS as readonly string[]).includes(level) ? level : 'info';
  return pino({ level: valid, base: { component } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything: for tests and for parsers run from the CLI. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
