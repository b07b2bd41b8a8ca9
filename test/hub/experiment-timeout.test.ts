// The hub's experiment timeout (dashboard/server/experiment-timeout.ts) on a real SQLite store,
// with the hub clock injected: which running experiments it closes, at which end, and that the
// agent's own word (an end, or an event saying it is still open) always wins afterwards.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startExperimentTimeout, type ExperimentTimeout } from '../../dashboard/server/experiment-timeout.js';
import { Store, type BatchToCommit } from '../../dashboard/store/store.js';
import { silentLogger } from '../../shared/log.js';
import type { ExperimentEvent, Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';

const T0 = 1_790_000_000_000;
const TIMEOUT = 60_000;

describe('experiment timeout (real SQLite store)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let num: number;
  let seq = 0;
  let now = T0;
  let timeout: ExperimentTimeout;

  beforeEach(() => {
    tmp = tempDir();
    store = Store.open(tmp.dir);
    num = store.upsertDevice(helloFrame('pi'), T0).num;
    seq = 0;
    now = T0;
    timeout = startExperimentTimeout(store, silentLogger(), { timeoutMs: TIMEOUT, sweepMs: 3_600_000, now: () => now });
  });
  afterEach(() => {
    timeout.stop();
    store.close();
    tmp.remove();
  });

  const commit = (samples: Sample[], receivedAt = now): void => {
    const b: BatchToCommit = { deviceNum: num, seq: ++seq, receivedAt, samples };
    expect(store.commitBatches([b])).toEqual([{ stored: true }]);
  };
  const event = (id: string, extra: Partial<ExperimentEvent> = {}): ExperimentEvent => ({ id, name: 'yolo', start: T0, ...extra });
  const timing = (id: string, t: number) => ({ model: 'm', experiment: id, t, count: 1, sum: 2, sumSq: 4, min: 2, max: 2, items: 1, buckets: [] as never });

  it('closes an experiment whose device went silent, at its last timing second, and an agent end arriving later wins', () => {
    commit([{ t: T0 + 1000, m: { 'cpu.util': 1 }, e: [event('x-a')], i: [timing('x-a', T0)] }]);
    commit([{ t: T0 + 5000, m: { 'cpu.util': 1 }, i: [timing('x-a', T0 + 4000)] }]);
    now = T0 + TIMEOUT - 1;
    expect(timeout.sweep()).toEqual([]);
    now = T0 + TIMEOUT + 1;
    expect(timeout.sweep()).toEqual(['x-a']);
    expect(store.getExperiment('x-a')).toMatchObject({ end: T0 + 5000, endedBy: 'timeout' });
    expect(timeout.sweep()).toEqual([]);

    // The agent comes back (its spool held the end): its end replaces the hub's.
    commit([{ t: T0 + 9000, m: {}, e: [event('x-a', { end: T0 + 8000 })] }]);
    expect(store.getExperiment('x-a')).toMatchObject({ end: T0 + 8000, endedBy: null });
  });

  it('an event without an end (the agent reloaded it after a restart) reopens a timed-out experiment', () => {
    commit([{ t: T0 + 1000, m: {}, e: [event('x-b')] }]);
    now = T0 + TIMEOUT + 1;
    expect(timeout.sweep()).toEqual(['x-b']);
    // Without tagged timings the end is the device's last data.
    expect(store.getExperiment('x-b')).toMatchObject({ end: T0 + 1000, endedBy: 'timeout' });
    commit([{ t: now, m: {}, e: [event('x-b')] }]);
    expect(store.getExperiment('x-b')).toMatchObject({ end: null, endedBy: null });
    expect(timeout.sweep()).toEqual([]);
  });

  it('a hello that no longer lists an experiment closes it once the timeout has passed since that hello; listed ones stay open', () => {
    commit([{ t: T0 + 1000, m: {}, e: [event('x-lost'), event('x-kept')], i: [timing('x-lost', T0)] }]);
    now = T0 + 10_000;
    timeout.noteHello(num, { ...helloFrame('pi'), clock: T0 + 10_000, openExperiments: ['x-kept'] });
    // The device keeps streaming: it is never silent.
    for (let k = 1; k <= 7; k++) {
      now = T0 + 10_000 + k * 10_000;
      commit([{ t: now, m: { 'cpu.util': k } }]);
      if (now < T0 + 10_000 + TIMEOUT) expect(timeout.sweep()).toEqual([]);
    }
    expect(timeout.sweep()).toEqual(['x-lost']);
    expect(store.getExperiment('x-lost')).toMatchObject({ end: T0 + 1000, endedBy: 'timeout' });
    expect(store.getExperiment('x-kept')).toMatchObject({ end: null, endedBy: null });

    // An experiment started after the hello is not in its list, and is not the hello's to close.
    commit([{ t: now, m: {}, e: [event('x-new', { start: T0 + 20_000 })] }]);
    now += TIMEOUT;
    commit([{ t: now, m: {} }]);
    expect(timeout.sweep()).toEqual([]);
  });

  it('an older agent (no openExperiments in its hello) makes no experiment look lost', () => {
    commit([{ t: T0 + 1000, m: {}, e: [event('x-old')] }]);
    timeout.noteHello(num, helloFrame('pi'));
    for (let k = 1; k <= 3; k++) {
      now = T0 + k * TIMEOUT;
      commit([{ t: now, m: {} }]);
      expect(timeout.sweep()).toEqual([]);
    }
  });
});
