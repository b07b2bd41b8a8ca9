// What the agent must remember across restarts: its device id and where its batch sequence
// numbers stand. Sequence numbers are reserved in blocks (hi/lo): the file is rewritten
// once per block, not once per batch, which spares a Pi's SD card, and after a crash the
// agent starts at the next block, so a number is never reused.
//
// A state directory that cannot be written (read-only root filesystem, full SD card, wrong
// owner) must not keep the agent from sampling: the id and the counter then live in memory,
// one warning says so, and every later reservation (at most every `retryMs`) tries the file
// again, so the state is persisted by itself once the disk is usable. A run that cannot save
// its reservation at start does not trust the file's number (a run before it may have gone on
// past it unsaved): it starts at the wall clock in ms instead, above every number an earlier
// run can have used, since there is one batch per tick and ticks are ≥ 500 ms apart. Otherwise the batches spooled before
// the hub's welcome would reuse numbers the hub has and be acked as duplicates, unstored; the
// welcome's lastSeq still moves the counter past whatever the hub has (onWelcome in agent.ts),
// which also covers a wall clock that is behind.
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../shared/log.js';
import { DEVICE_ID_RE } from '../shared/protocol.js';
import { makeDir } from './transport/disk-spool.js';

export const STATE_FILE_NAME = 'agent-state.json';
const SEQ_BLOCK = 10_000;
const DEFAULT_RETRY_MS = 3000;

/**
 * Errors of the disk or its permissions rather than of the state itself: the agent carries on
 * in memory. Anything else (a corrupt file, a bad --id) still stops it, with what to fix.
 */
const DISK_TROUBLE = new Set(['EROFS', 'ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EIO', 'EFBIG', 'EMFILE', 'ENFILE']);

interface StateFile {
  deviceId: string;
  /** Every sequence number below this may have been used; the next run starts here. */
  seqReservedUntil: number;
}

export interface AgentStateOptions {
  log?: Logger;
  /** While the file cannot be written, how often a reservation tries again (default 3 s). */
  retryMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

export class AgentState {
  readonly deviceId: string;
  private nextSeq: number;
  private reservedUntil: number;
  /** Set while the file on disk is behind memory (the last write failed). */
  private unsavedSince: number | null = null;
  private lastAttempt = 0;
  private readonly log: Logger;
  private readonly retryMs: number;
  private readonly now: () => number;

  private constructor(
    private readonly dir: string,
    private readonly file: string,
    state: StateFile,
    opts: AgentStateOptions,
  ) {
    this.deviceId = state.deviceId;
    this.nextSeq = state.seqReservedUntil;
    this.reservedUntil = state.seqReservedUntil;
    this.log = opts.log ?? silentLogger();
    this.retryMs = opts.retryMs ?? DEFAULT_RETRY_MS;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Loads the state in `dir`, creating it on first run. `deviceId` overrides the stored id
   * (the `--id` flag), e.g. to keep one id across a reinstall. A directory that cannot be
   * created or written is not fatal (see the top of this file).
   */
  static load(dir: string, deviceId?: string, opts: AgentStateOptions = {}): AgentState {
    const file = join(dir, STATE_FILE_NAME);
    let stored: Partial<StateFile> = {};
    try {
      stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<StateFile>;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOTDIR/ENOENT: no state yet (the directory may not exist; creating it is tried below).
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        throw new Error(`agent state file ${file} is unreadable (${(err as Error).message}); fix or delete it`);
      }
    }
    const id = deviceId ?? stored.deviceId ?? randomUUID();
    if (!DEVICE_ID_RE.test(id)) {
      throw new Error(`device id ${JSON.stringify(id)} is invalid: use 1–64 characters of [A-Za-z0-9_.-]`);
    }
    const seq = Number.isSafeInteger(stored.seqReservedUntil) && stored.seqReservedUntil! > 0 ? stored.seqReservedUntil! : 1;
    const state = new AgentState(dir, file, { deviceId: id, seqReservedUntil: seq }, opts);
    state.reserve(seq, true);
    if (state.unsaved) {
      const floor = Math.floor(state.now());
      if (floor > state.nextSeq) {
        state.nextSeq = floor;
        state.reservedUntil = floor + SEQ_BLOCK;
      }
    }
    return state;
  }

  /** The next batch sequence number; strictly increasing for this device, across restarts. */
  takeSeq(): number {
    if (this.nextSeq >= this.reservedUntil) this.reserve(this.nextSeq);
    else if (this.unsavedSince !== null && this.now() - this.lastAttempt >= this.retryMs) this.reserve(this.nextSeq);
    return this.nextSeq++;
  }

  /**
   * Moves the counter past `seq`, e.g. when the hub reports a higher committed number than
   * this state knows (state directory restored from an old backup, or never written).
   */
  skipPast(seq: number): void {
    if (seq >= this.nextSeq) {
      this.nextSeq = seq + 1;
      if (this.nextSeq >= this.reservedUntil || this.unsavedSince !== null) this.reserve(this.nextSeq);
    }
  }

  peekNextSeq(): number {
    return this.nextSeq;
  }

  /** True while the id and the counter are in memory only. */
  get unsaved(): boolean {
    return this.unsavedSince !== null;
  }

  /**
   * Reserves the block [from, from + SEQ_BLOCK). A failed write keeps the block in memory
   * (numbers go on being issued) and is retried; only an unexpected error at load throws.
   */
  private reserve(from: number, atLoad = false): void {
    this.reservedUntil = from + SEQ_BLOCK;
    this.lastAttempt = this.now();
    try {
      makeDir(this.dir);
      writeFileDurably(this.file, JSON.stringify({ deviceId: this.deviceId, seqReservedUntil: this.reservedUntil }) + '\n');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // At load an unknown error is more likely a mistake (a path that is a file) than a
      // disk going bad; later, stopping the sampler over it would lose data instead.
      if (atLoad && !(code && DISK_TROUBLE.has(code))) throw new Error(`cannot write the agent state file ${this.file}: ${(err as Error).message}`);
      if (this.unsavedSince === null) {
        this.unsavedSince = this.now();
        this.log.warn(
          { err, code, file: this.file, deviceId: this.deviceId, nextSeq: this.nextSeq, retryMs: this.retryMs },
          `state: cannot write ${this.file} (${code ?? (err as Error).message}): the device id ${this.deviceId} and the sequence numbers are kept in memory only, ` +
            'so a restart before it can be written may give this device a new id (unless --id is set). ' +
            `Make ${this.dir} writable and give it free space (or pass --state-dir a writable directory); the agent retries every ${this.retryMs >= 1000 ? `${this.retryMs / 1000} s` : `${this.retryMs} ms`} and saves the state by itself.`,
        );
      }
      return;
    }
    if (this.unsavedSince !== null) {
      this.log.info(
        { file: this.file, deviceId: this.deviceId, seqReservedUntil: this.reservedUntil, unsavedMs: this.now() - this.unsavedSince },
        `state: ${this.file} is writable again; the device id and sequence numbers are saved`,
      );
      this.unsavedSince = null;
    }
  }
}

/** Write to a temp file, fsync, rename: a crash leaves the old file or the new, never half. */
function writeFileDurably(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    // A full disk: do not leave a half-written temp file taking what little space is left.
    try {
      unlinkSync(tmp);
    } catch {
      // already gone, or the directory refuses that too
    }
    throw err;
  }
}
