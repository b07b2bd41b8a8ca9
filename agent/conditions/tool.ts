// The two kinds of read the run-conditions probes make, both bounded by one AbortSignal: a
// small /proc or /sys file read off the event loop (a thermal zone behind a stuck I2C bus can
// take a second), and a one-shot tool run. Neither throws: an unreadable file is undefined, a
// failed run rejects with a one-line reason that the caller only logs.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { RunConditions } from '../../shared/conditions.js';

/** A small file's text, or undefined when it cannot be read (gone, EIO, ENODATA, aborted…). */
export async function readTextAsync(path: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    return await readFile(path, { encoding: 'utf8', ...(signal ? { signal } : {}) });
  } catch {
    return undefined;
  }
}

/**
 * Runs `file args` once and resolves with its stdout. Rejects when it exits non-zero, or when
 * `signal` aborts: the child is then killed outright, since nothing waits for its answer.
 */
export function runTool(file: string, args: readonly string[], signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error(`${file} not started: out of time`));
      return;
    }
    execFile(
      file,
      [...args],
      { signal, killSignal: 'SIGKILL', windowsHide: true, maxBuffer: 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) {
          resolve(stdout);
          return;
        }
        const said = `${stdout}${stderr}`.trim().split('\n')[0] ?? '';
        const why = err.name === 'AbortError' ? 'cut off: out of time' : err.message.split('\n')[0];
        reject(Object.assign(new Error(`${file} ${args.join(' ')}: ${why}${said ? ` (${said.slice(0, 200)})` : ''}`), { stdout }));
      },
    );
  });
}

/** Where the probes put what they read; nothing lands after the deadline. */
export interface ConditionsSink {
  /** Records these fields, replacing earlier values. */
  set(part: Partial<RunConditions>): void;
  /** Records only the fields not yet recorded. */
  fill(part: Partial<RunConditions>): void;
  /** A probe that gave nothing; logged at debug. */
  failed(what: string, err: unknown): void;
}
