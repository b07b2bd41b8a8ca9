// Keeps one long-lived tool process running (`nvidia-smi -lms`, later `tegrastats`) and hands its
// stdout over line by line. A tool that dies is started again after a delay that doubles with
// each quick death (with jitter, so a fleet of agents does not retry in lockstep) and resets once
// a run has lasted; a tool that cannot start at all costs one attempt per minute at most.
// Nothing here throws into the caller: failures are logged and retried.
import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from '../../shared/log.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** How long the process ran, ms. */
  readonly runMs: number;
  /** Set when the process could not be started at all (ENOENT, EACCES). */
  readonly error?: Error;
  /** The last lines it wrote to stderr. */
  readonly stderrTail: readonly string[];
  /** When it will be started again, or null when it is not (closing). */
  readonly restartInMs: number | null;
}

export interface SupervisedProcessOptions {
  readonly command: string;
  /** Arguments, or a function asked before every start (so a caller can change them after a failure). */
  readonly args: readonly string[] | (() => readonly string[]);
  /** Called for each complete stdout line, without the line break. */
  readonly onLine: (line: string) => void;
  readonly log: Logger;
  /** Name for log lines; the command's base name by default. */
  readonly name?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly backoff?: Partial<BackoffOptions>;
  /** How long close() waits after SIGTERM before SIGKILL. */
  readonly stopGraceMs?: number;
  /** A longer line is dropped: a tool gone mad must not grow the agent's memory. */
  readonly maxLineLength?: number;
  readonly onStart?: (pid: number | undefined) => void;
  readonly onExit?: (info: ExitInfo) => void;
  /** Source of randomness for the jitter; tests pin it. */
  readonly random?: () => number;
}

const STDERR_TAIL_LINES = 5;

/** Splits a byte stream into lines; the unterminated tail is held until its newline comes. */
class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private discarding = false;

  constructor(
    private readonly maxLength: number,
    private readonly onOverflow: () => void,
  ) {}

  push(chunk: Buffer): string[] {
    const parts = (this.pending + this.decoder.write(chunk)).split('\n');
    this.pending = parts.pop() ?? '';
    const lines: string[] = [];
    for (const part of parts) {
      if (this.discarding) {
        // The end of an over-long line: drop it too.
        this.discarding = false;
        continue;
      }
      lines.push(part.endsWith('\r') ? part.slice(0, -1) : part);
    }
    if (this.pending.length > this.maxLength) {
      this.pending = '';
      this.discarding = true;
      this.onOverflow();
    }
    return lines.filter((l) => l.length <= this.maxLength);
  }

  /** The text after the last newline when the stream ended: a line cut off by the exit. */
  end(): string {
    const tail = this.pending + this.decoder.end();
    this.pending = '';
    return tail;
  }
}

export class SupervisedProcess {
  private readonly options: SupervisedProcessOptions;
  private readonly backoff: BackoffOptions;
  private readonly name: string;
  private child: ChildProcess | null = null;
  private startedAt = 0;
  private failures = 0;
  private restartCount = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private started = false;
  private closing: Promise<void> | null = null;
  private childExited: Promise<void> = Promise.resolve();

  constructor(options: SupervisedProcessOptions) {
    this.options = options;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.name = options.name ?? options.command.split(/[\\/]/).pop() ?? options.command;
  }

  /** Starts the process; calling it again, or after close(), does nothing. */
  start(): void {
    if (this.started || this.closing) return;
    this.started = true;
    this.spawnChild();
  }

  /** Times the process was started again after it ended. */
  get restarts(): number {
    return this.restartCount;
  }

  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Stops the process (SIGTERM, then SIGKILL after the grace period) and any pending restart. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    this.closing = child === null ? Promise.resolve() : this.stopChild(child);
    return this.closing;
  }

  private async stopChild(child: ChildProcess): Promise<void> {
    const grace = this.options.stopGraceMs ?? 2000;
    const timers: NodeJS.Timeout[] = [];
    this.signal(child, 'SIGTERM');
    timers.push(
      setTimeout(() => {
        this.options.log.debug({ tool: this.name, pid: child.pid }, 'tool ignored SIGTERM; sending SIGKILL');
        this.signal(child, 'SIGKILL');
      }, grace),
    );
    // SIGKILL cannot be ignored, but a process stuck in the kernel (a hung driver call) may not
    // die at once; close() must still return so the agent can shut down.
    const givenUp = new Promise<void>((resolve) =>
      timers.push(
        setTimeout(() => {
          this.options.log.warn({ tool: this.name, pid: child.pid }, 'tool did not exit after SIGKILL; leaving it');
          resolve();
        }, grace + 5000),
      ),
    );
    await Promise.race([this.childExited, givenUp]);
    for (const t of timers) clearTimeout(t);
  }

  private signal(child: ChildProcess, signal: NodeJS.Signals): void {
    try {
      child.kill(signal);
    } catch (err) {
      this.options.log.debug({ tool: this.name, err }, `could not send ${signal}`);
    }
  }

  private currentArgs(): readonly string[] {
    const { args } = this.options;
    if (typeof args !== 'function') return args;
    try {
      return args();
    } catch (err) {
      this.options.log.warn({ tool: this.name, err }, 'computing the arguments failed; starting without any');
      return [];
    }
  }

  private spawnChild(): void {
    const args = this.currentArgs();
    const stderrTail: string[] = [];
    let settle!: () => void;
    this.childExited = new Promise<void>((resolve) => (settle = resolve));
    let child: ChildProcess;
    this.startedAt = Date.now();
    try {
      child = spawn(this.options.command, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: this.options.env ?? process.env,
        ...(this.options.cwd === undefined ? {} : { cwd: this.options.cwd }),
        windowsHide: true,
      });
    } catch (err) {
      // spawn throws synchronously only for unusable arguments (e.g. a NUL byte in them).
      settle();
      this.handleExit({ code: null, signal: null, error: err as Error, stderrTail });
      return;
    }
    this.child = child;
    let done = false;
    const finish = (info: { code: number | null; signal: NodeJS.Signals | null; error?: Error }): void => {
      if (done) return;
      done = true;
      if (this.child === child) this.child = null;
      settle();
      this.handleExit({ ...info, stderrTail });
    };

    const maxLength = this.options.maxLineLength ?? 64 * 1024;
    const out = new LineSplitter(maxLength, () =>
      this.options.log.warn({ tool: this.name, maxLength }, 'tool wrote a line longer than the limit; line dropped'),
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      for (const line of out.push(chunk)) this.deliver(line);
    });
    child.stdout?.on('end', () => {
      const tail = out.end();
      // A line without its newline was cut off by the exit; half a CSV row would be a wrong value.
      if (tail !== '') this.options.log.debug({ tool: this.name, tail: tail.slice(0, 200) }, 'dropped unterminated last line');
    });
    const err = new LineSplitter(maxLength, () => undefined);
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of err.push(chunk)) {
        if (line.trim() === '') continue;
        this.options.log.debug({ tool: this.name, stderr: line.slice(0, 500) }, 'tool stderr');
        stderrTail.push(line.slice(0, 500));
        if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
      }
    });
    child.on('error', (error) => {
      // 'error' without a pid means the process never started; otherwise 'exit' follows.
      if (child.pid === undefined) finish({ code: null, signal: null, error });
      else this.options.log.debug({ tool: this.name, err: error }, 'tool process error');
    });
    child.on('exit', (code, signal) => finish({ code, signal }));
    if (child.pid !== undefined) {
      this.options.log.debug({ tool: this.name, pid: child.pid, args }, 'tool started');
      this.callback(() => this.options.onStart?.(child.pid));
    }
  }

  private deliver(line: string): void {
    this.callback(() => this.options.onLine(line));
  }

  private callback(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.options.log.warn({ tool: this.name, err }, 'tool output handler threw');
    }
  }

  private handleExit(info: { code: number | null; signal: NodeJS.Signals | null; error?: Error; stderrTail: string[] }): void {
    const runMs = Date.now() - this.startedAt;
    if (this.closing) {
      this.callback(() => this.options.onExit?.({ ...info, runMs, restartInMs: null }));
      return;
    }
    if (runMs >= this.backoff.healthyAfterMs) this.failures = 0;
    const delay = backoffDelay(this.failures, this.backoff, this.options.random);
    this.failures++;
    this.options.log.warn(
      { tool: this.name, code: info.code, signal: info.signal, err: info.error, runMs, stderr: info.stderrTail, restartInMs: delay },
      info.error ? `could not start ${this.name}: ${info.error.message}` : `${this.name} exited; restarting`,
    );
    this.callback(() => this.options.onExit?.({ ...info, runMs, restartInMs: delay }));
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.closing) return;
      this.restartCount++;
      this.spawnChild();
    }, delay);
    // A pending restart alone must not keep the agent alive.
    this.restartTimer.unref();
  }
}
