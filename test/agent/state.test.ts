import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentState, STATE_FILE_NAME } from '../../agent/state.js';
import { tempDir } from '../helpers/temp-dir.js';

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
});
