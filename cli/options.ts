// Parsing and checking CLI option values. Every error names the option, the value and
// what is accepted.
import { InvalidArgumentError } from 'commander';

/** `500`, `500ms`, `0.5s`, `2s` → milliseconds. A bare number is milliseconds. */
export function parseDuration(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/.exec(raw);
  if (!m) throw new InvalidArgumentError(`"${raw}" is not a duration: use e.g. 500 (ms), 500ms, 0.5s or 2s`);
  const ms = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  return Math.round(ms);
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
