// The agent's open experiments in its state directory (agent/inference/open-experiments-file.ts)
// and their reload into the aggregator after a restart: real files in a temp dir, a real
// aggregator, a pino logger writing JSON lines to memory.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InferenceAggregator } from '../../agent/inference/aggregator.js';
import { OPEN_EXPERIMENTS_FILE_NAME, OpenExperimentsFile } from '../../agent/inference/open-experiments-file.js';
import { createLogger } from '../../shared/log.js';
import { tempDir } from '../helpers/temp-dir.js';

function memoryLog() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger('test', 'info', { stream: stream as never, format: 'json' }), lines };
}

let dir: string;
let remove: () => void;
beforeEach(() => ({ dir, remove } = tempDir('ew-open-exp-')));
afterEach(() => remove());

describe('open experiments file', () => {
  it('persists on start, scores and end, and a restarted aggregator reopens and re-announces them', () => {
    const { log } = memoryLog();
    const file = new OpenExperimentsFile(dir, log);
    let writes = 0;
    const before = new InferenceAggregator();
    before.persistTo((open) => {
      writes++;
      file.save(open);
    });
    const t0 = 1_700_000_000_000;
    const a = before.startExperiment({ name: 'resnet', tags: { quant: 'int8' }, params: 11_700_000, warmup: { calls: 2 } }, t0);
    const b = before.startExperiment({ name: 'other' }, t0 + 1);
    for (let i = 0; i < 5; i++) before.timing({ model: 'm', latencyMs: 10 + i, experiment: a.id }, t0 + 100 + i);
    expect(writes).toBe(2); // timings never write…
    before.drain(t0 + 2000); // …the first call and the warm-up's end wait for the next drain
    expect(writes).toBe(3);
    before.scoreExperiment(a.id, [{ name: 'top1', value: 0.9, better: 'higher' }]);
    before.endExperiment(b.id, t0 + 3000);
    expect(writes).toBe(5);

    const stored = file.load();
    expect(stored.map((e) => e.id)).toEqual([a.id]);
    expect(stored[0]).toMatchObject({ name: 'resnet', tags: { quant: 'int8' }, params: 11_700_000, start: a.start, firstCallMs: 10, scores: [{ name: 'top1', value: 0.9 }] });
    expect(stored[0]!.measuredFrom).toBeGreaterThanOrEqual(t0);

    // The agent "restarts": a new aggregator reloads what the file says.
    const after = new InferenceAggregator();
    const restartAt = t0 + 10_000;
    expect(after.restore(file.load(), restartAt)).toEqual([a.id]);
    expect(after.openIds()).toEqual([a.id]);
    const announced = after.drain(restartAt).experiments;
    expect(announced).toHaveLength(1);
    expect(announced[0]).toMatchObject({ id: a.id, name: 'resnet', start: a.start });
    expect(announced[0]!.end).toBeUndefined();

    // The warm-up had passed before the restart: new calls are measured, not warm-up again.
    after.timing({ model: 'm', latencyMs: 20, experiment: a.id }, restartAt + 10);
    after.timing({ model: 'm', latencyMs: 30, experiment: a.id }, restartAt + 20);
    const ended = after.endExperiment(a.id, restartAt + 500)!;
    expect(ended.summary).toMatchObject({ resumed: true, countedFrom: restartAt, inferences: 2, durationMs: restartAt + 500 - a.start });
    expect(ended.summary.measured.count).toBe(2);
    expect(ended.summary.warmup.count).toBe(0);
    expect(ended.summary.scores).toEqual([{ name: 'top1', value: 0.9, better: 'higher' }]);
  });

  it('a damaged file is a warning and a fresh start, and is rewritten at the next change', () => {
    const { log, lines } = memoryLog();
    const path = join(dir, OPEN_EXPERIMENTS_FILE_NAME);
    for (const text of ['{"format":1,"experiments":[{"id":"x-1', 'null', '{"format":1,"experiments":[{"id":"bad id!","name":"n","start":1}]}', '\u0000\u0001']) {
      writeFileSync(path, text);
      expect(new OpenExperimentsFile(dir, log).load()).toEqual([]);
    }
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(4);
    expect(warnings[0]!.msg).toContain('is damaged: starting without them');

    const file = new OpenExperimentsFile(dir, log);
    const agg = new InferenceAggregator();
    agg.persistTo((open) => void file.save(open));
    const { id } = agg.startExperiment({ name: 'fresh' }, 1_700_000_000_000);
    expect(new OpenExperimentsFile(dir, log).load().map((e) => e.id)).toEqual([id]);
    expect(JSON.parse(readFileSync(path, 'utf8')).format).toBe(1);
  });

  it('a missing file is no experiments, silently', () => {
    const { log, lines } = memoryLog();
    expect(new OpenExperimentsFile(dir, log).load()).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('a state directory that cannot be written costs one warning, and the experiments keep working in memory', () => {
    const { log, lines } = memoryLog();
    // A file where the directory should be: unwritable even for root (chmod would not stop it).
    const blocked = join(dir, 'state');
    writeFileSync(blocked, 'not a directory');
    const file = new OpenExperimentsFile(blocked, log);
    const agg = new InferenceAggregator();
    agg.persistTo((open) => void file.save(open));
    const { id } = agg.startExperiment({ name: 'ro' }, 1_700_000_000_000);
    agg.timing({ model: 'm', latencyMs: 5, experiment: id }, 1_700_000_000_010);
    agg.scoreExperiment(id, [{ name: 'top1', value: 1, better: 'higher' }]);
    expect(agg.endExperiment(id, 1_700_000_000_500)!.summary.inferences).toBe(1);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    expect(lines[0]!.msg).toContain('kept in memory only');
    // Writable again: the next change is written, and says so.
    rmSync(blocked);
    expect(file.save([])).toBe(true);
    expect(lines.at(-1)!.msg).toContain('written to the state directory again');
    expect(existsSync(join(blocked, OPEN_EXPERIMENTS_FILE_NAME))).toBe(true);
  });
});
