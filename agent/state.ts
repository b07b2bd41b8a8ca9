// What the agent must remember across restarts: its device id and where its batch sequence
// numbers stand. Sequence numbers are reserved in blocks (hi/lo): the file is rewritten
// once per block, not once per batch, which spares a Pi's SD card, and after a crash the
// agent starts at the next block, so a number is never reused.
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_ID_RE } from '../shared/protocol.js';

export const STATE_FILE_NAME = 'agent-state.json';
const SEQ_BLOCK = 10_000;

interface StateFile {
  deviceId: string;
  /** Every sequence number below this may have been used; the next run starts here. */
  seqReservedUntil: number;
}

export class AgentState {
  readonly deviceId: string;
  private nextSeq: number;
  private reservedUntil: number;

  private constructor(
    private readonly file: string,
    state: StateFile,
  ) {
    this.deviceId = state.deviceId;
    this.nextSeq = state.seqReservedUntil;
    this.reservedUntil = state.seqReservedUntil;
  }

  /**
   * Loads the state in `dir`, creating it on first run. `deviceId` overrides the stored id
   * (the `--id` flag), e.g. to keep one id across a reinstall.
   */
  static load(dir: string, deviceId?: string): AgentState {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, STATE_FILE_NAME);
    let stored: Partial<StateFile> = {};
    try {
      stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<StateFile>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`agent state file ${file} is unreadable (${(err as Error).message}); fix or delete it`);
      }
    }
    const id = deviceId ?? stored.deviceId ?? randomUUID();
    if (!DEVICE_ID_RE.test(id)) {
      throw new Error(`device id ${JSON.stringify(id)} is invalid: use 1–64 characters of [A-Za-z0-9_.-]`);
    }
    const seq = Number.isSafeInteger(stored.seqReservedUntil) && stored.seqReservedUntil! > 0 ? stored.seqReservedUntil! : 1;
    const state = new AgentState(file, { deviceId: id, seqReservedUntil: seq });
    state.reserve(seq);
    return state;
  }

  /** The next batch sequence number; strictly increasing for this device, across restarts. */
  takeSeq(): number {
    if (this.nextSeq >= this.reservedUntil) this.reserve(this.nextSeq);
    return this.nextSeq++;
  }

  /**
   * Moves the counter past `seq`, e.g. when the hub reports a higher committed number than
   * this state knows (state directory restored from an old backup).
   */
  skipPast(seq: number): void {
    if (seq >= this.nextSeq) {
      this.nextSeq = seq + 1;
      if (this.nextSeq >= this.reservedUntil) this.reserve(this.nextSeq);
    }
  }

  peekNextSeq(): number {
    return this.nextSeq;
  }

  private reserve(from: number): void {
    this.reservedUntil = from + SEQ_BLOCK;
    writeFileDurably(this.file, JSON.stringify({ deviceId: this.deviceId, seqReservedUntil: this.reservedUntil }) + '\n');
  }
}

/** Write to a temp file, fsync, rename: a crash leaves the old file or the new, never half. */
function writeFileDurably(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
