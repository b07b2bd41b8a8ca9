import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentState, STATE_FILE_NAME } from '../../agent/state.js';
import { tempDir } from '../helpers/temp-dir.js';

function captureLogger() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines, warnings: () => lines.filter((l) => l.level === 40) };
}

describe('AgentState', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.remove());

  it('keeps the device id and never reuses a sequence number across restarts, even after a crash', () => {
    const first = AgentState.load(tmp.dir);
    const used = [first.takeSeq(), first.takeSeq(), first.takeSeq()];
    expect(used).toEqual([1, 2, 3]);
    // "Crash": no clean shutdown, just load again.
    const second = AgentState.load(tmp.dir);
    expect(second.deviceId).toBe(first.deviceId);
    const next = second.takeSeq();
    expect(next).toBeGreaterThan(3);
    const third = AgentState.load(tmp.dir);
    expect(third.takeSeq()).toBeGreaterThan(next);
  });

  it('writes the state file once per block of numbers, not once per batch', () => {
    const state = AgentState.load(tmp.dir);
    const file = join(tmp.dir, STATE_FILE_NAME);
    const before = readFileSync(file, 'utf8');
    for (let i = 0; i < 9_000; i++) state.takeSeq();
    expect(readFileSync(file, 'utf8')).toBe(before);
    for (let i = 0; i < 2_000; i++) state.takeSeq();
    expect(readFileSync(file, 'utf8')).not.toBe(before);
  });

  it('skips forward past a sequence number the hub already has', () => {
    const state = AgentState.load(tmp.dir);
    state.skipPast(50_000);
    expect(state.takeSeq()).toBe(50_001);
    expect(AgentState.load(tmp.dir).takeSeq()).toBeGreaterThan(50_001);
  });

  it('takes an explicit device id, and rejects one the protocol would refuse', () => {
    expect(AgentState.load(tmp.dir, 'jetson-lab-3').deviceId).toBe('jetson-lab-3');
    expect(() => AgentState.load(tmp.dir, 'bad id!')).toThrow(/device id "bad id!" is invalid/);
  });

  it('says which file is broken instead of silently inventing a new identity', () => {
    writeFileSync(join(tmp.dir, STATE_FILE_NAME), '{truncated');
    expect(() => AgentState.load(tmp.dir)).toThrow(/agent-state.json is unreadable/);
  });

  // The temp file the state is written through is /dev/full: every write fails with ENOSPC,
  // as on a full SD card. (A failed write removes the temp file, so the test puts it back
  // for as long as the disk is meant to stay full.)
  const diskFull = () => symlinkSync('/dev/full', join(tmp.dir, `${STATE_FILE_NAME}.tmp`));

  it('starts on a full disk with the id and sequence numbers in memory, one warning, and saves them once it can write', () => {
    let now = 1_000_000;
    const cap = captureLogger();
    diskFull();
    const state = AgentState.load(tmp.dir, undefined, { log: cap.log, retryMs: 1000, now: () => now });
    expect(state.unsaved).toBe(true);
    expect(existsSync(join(tmp.dir, STATE_FILE_NAME))).toBe(false);
    // Unsaved from the start: numbering starts at the clock (ms), above anything a run before
    // could have issued past the file's last block.
    expect([state.takeSeq(), state.takeSeq(), state.takeSeq()]).toEqual([now, now + 1, now + 2]);
    const warnings = cap.warnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(new RegExp(`cannot write ${join(tmp.dir, STATE_FILE_NAME)} \\(ENOSPC\\).*${state.deviceId}.*in memory only.*retries every 1 s`));

    // Still full at the next try: no second warning, numbers go on.
    diskFull();
    now += 1000;
    expect(state.takeSeq()).toBe(1_000_003);
    expect(state.unsaved).toBe(true);
    // Within the retry interval nothing is tried (the file stays absent even with space back).
    now += 500;
    expect(state.takeSeq()).toBe(1_000_004);
    expect(existsSync(join(tmp.dir, STATE_FILE_NAME))).toBe(false);

    // Space is back: the next reservation after the interval writes the id and a block past what was used.
    now += 600;
    expect(state.takeSeq()).toBe(1_000_005);
    expect(state.unsaved).toBe(false);
    const saved = JSON.parse(readFileSync(join(tmp.dir, STATE_FILE_NAME), 'utf8')) as { deviceId: string; seqReservedUntil: number };
    expect(saved.deviceId).toBe(state.deviceId);
    expect(saved.seqReservedUntil).toBeGreaterThan(1_000_005);
    expect(cap.warnings()).toHaveLength(1);
    expect(cap.lines.filter((l) => /writable again/.test(l.msg))).toHaveLength(1);
    // A restart now keeps the id and never reuses a number.
    const again = AgentState.load(tmp.dir);
    expect(again.deviceId).toBe(state.deviceId);
    expect(again.takeSeq()).toBeGreaterThan(1_000_005);
  });

  it('does not trust a stale file it cannot update: numbering resumes above the clock, not at the file', () => {
    AgentState.load(tmp.dir, 'stale').skipPast(42);
    diskFull();
    const state = AgentState.load(tmp.dir, 'stale', { now: () => 1_700_000_000_000 });
    expect(state.unsaved).toBe(true);
    expect(state.takeSeq()).toBe(1_700_000_000_000);
    // A wall clock far behind (a board without RTC before NTP): the file's number, never lower.
    diskFull();
    const early = AgentState.load(tmp.dir, 'stale', { now: () => 5 });
    expect(early.takeSeq()).toBeGreaterThan(42);
  });

  it('keeps issuing increasing numbers past a block boundary while the disk stays full', () => {
    const cap = captureLogger();
    const state = AgentState.load(tmp.dir, 'full-disk', { log: cap.log, retryMs: 60_000, now: () => 0 });
    const before = readFileSync(join(tmp.dir, STATE_FILE_NAME), 'utf8');
    let last = 0;
    for (let i = 0; i < 15_000; i++) {
      if (i === 9_000) diskFull(); // the disk fills before the next block is reserved
      const seq = state.takeSeq();
      expect(seq).toBe(last + 1);
      last = seq;
    }
    expect(state.unsaved).toBe(true);
    // The file still holds the old block: a restart now starts below `last`; the hub's
    // welcome.lastSeq (skipPast) moves it past what the hub has.
    expect(readFileSync(join(tmp.dir, STATE_FILE_NAME), 'utf8')).toBe(before);
    expect(cap.warnings()).toHaveLength(1);
    state.skipPast(30_000);
    expect(state.takeSeq()).toBe(30_001);
  });

  it('still refuses a state directory path that is a file (a mistake, not a disk problem)', () => {
    const file = join(tmp.dir, 'a-file');
    writeFileSync(file, 'x');
    expect(() => AgentState.load(join(file, 'state'))).toThrow(/cannot write the agent state file .*a-file\/state\/agent-state.json/);
  });
});
