// What the receiver's input can cost the agent: the UDP line parser under arbitrary text, and the
// aggregator's caps on distinct models, experiment pairs and experiment starts, each refusal
// counted. The real-process fuzz is test/integration/receiver-fuzz.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InferenceAggregator } from '../../agent/inference/aggregator.js';
import { formatTimingLine, parseTimingLine, TimingSchema } from '../../shared/inference.js';

const T0 = 1_790_000_000_000;

describe('parseTimingLine under arbitrary input', () => {
  it('never throws, and whatever it accepts is a valid Timing that formats back to itself', () => {
    const field = fc.tuple(fc.constantFrom('b', 'x', 't', '#k', '#__proto__', '#a.b', 'q', ''), fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.double().map(String), fc.nat().map(String)));
    const line = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc
        .tuple(fc.constantFrom('ew1', 'ew2'), fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:/@+-]{1,10}$/), fc.string({ unit: 'binary', maxLength: 20 })), fc.oneof(fc.double().map(String), fc.string({ maxLength: 8 })), fc.array(field, { maxLength: 6 }))
        .map(([h, m, l, fs]) => [h, m, l, ...fs.map(([k, v]) => `${k}=${v}`)].join(' ')),
    );
    fc.assert(
      fc.property(line, (text) => {
        const parsed = parseTimingLine(text);
        if (!parsed.ok) {
          expect(parsed.error).toMatch(/^[^\n]+$/);
          return;
        }
        expect(TimingSchema.safeParse(parsed.timing).success).toBe(true);
        expect(parseTimingLine(formatTimingLine(parsed.timing))).toEqual(parsed);
      }),
      { numRuns: 3000, seed: 20261203 },
    );
  });

  it('refuses what Number() would quietly misread: empty, hex, binary, Infinity, unsafe integers', () => {
    for (const bad of ['ew1 m 0x10', 'ew1 m 0b1', 'ew1 m Infinity', 'ew1 m NaN', 'ew1 m 1e309', 'ew1 m -1', 'ew1 m 1 t=', 'ew1 m 1 b=', 'ew1 m 1 t=0x10', 'ew1 m 1 t=1e300', 'ew1 m 1 b=0b11']) {
      expect(parseTimingLine(bad), bad).toMatchObject({ ok: false });
    }
    // What the SDKs write (Python's repr included) still parses.
    expect(parseTimingLine('ew1 m 1e-05 b=8 t=1796328334813')).toEqual({ ok: true, timing: { model: 'm', latencyMs: 0.00001, batch: 8, t: 1796328334813 } });
    expect(parseTimingLine('ew1 m .5')).toEqual({ ok: true, timing: { model: 'm', latencyMs: 0.5 } });
  });

  it('keeps `#__proto__=` as a tag, not as the prototype, and refuses control characters in tag values', () => {
    const parsed = parseTimingLine('ew1 m 1 #__proto__=x #constructor=y');
    expect(parsed.ok).toBe(true);
    const tags = (parsed as { timing: { tags: Record<string, string> } }).timing.tags;
    expect(Object.keys(tags)).toEqual(['__proto__', 'constructor']);
    expect(JSON.parse(JSON.stringify(tags))).toEqual(JSON.parse('{"__proto__":"x","constructor":"y"}'));
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
    expect(parseTimingLine('ew1 m 1 #k=a\u0007b')).toEqual({ ok: false, error: 'bad value of tag "k": up to 256 characters without control characters' });
    expect(TimingSchema.safeParse({ model: 'm', latencyMs: 1, tags: { k: 'a\u001bb' } }).success).toBe(false);
  });
});

describe('aggregator limits against a flood', () => {
  it('caps distinct models outside experiments over 10 minutes, refusing with a reason and a count', () => {
    const agg = new InferenceAggregator({ maxModels: 50, maxPairsPerSecond: 1000 });
    for (let i = 0; i < 50; i++) expect(agg.timing({ model: `m${i}`, latencyMs: 1 }, T0)).toBeUndefined();
    expect(agg.timing({ model: 'one-too-many', latencyMs: 1 }, T0)).toMatch(/^model "one-too-many" refused: 50 distinct models already had timings outside an experiment in the last 600 s/);
    // Known models keep working; so does an open experiment's own new model.
    expect(agg.timing({ model: 'm7', latencyMs: 1 }, T0 + 5)).toBeUndefined();
    const { id } = agg.startExperiment({ name: 'e' }, T0);
    expect(agg.timing({ model: 'brand-new', latencyMs: 1, experiment: id }, T0 + 6)).toBeUndefined();
    expect(agg.stats()).toMatchObject({ dropped: { overflow: 0, stale: 0, models: 1 }, models: 50 });
    expect(agg.drain(T0 + 1250).metrics['inference.dropped']).toBe(1);
    // Ten minutes on, models not seen since are forgotten and new ones are taken again.
    agg.timing({ model: 'm7', latencyMs: 1 }, T0 + 599_000);
    agg.drain(T0 + 600_500);
    expect(agg.stats().models).toBe(1);
    expect(agg.timing({ model: 'one-too-many', latencyMs: 1 }, T0 + 600_600)).toBeUndefined();
  });

  it('keeps room for open experiments in a second that other timings have filled', () => {
    const agg = new InferenceAggregator();
    const { id } = agg.startExperiment({ name: 'measured' }, T0);
    for (let i = 0; i < 300; i++) agg.timing({ model: `noise${i}`, latencyMs: 1, experiment: `not-open-${i}` }, T0 + 1);
    expect(agg.stats().dropped.overflow).toBe(44);
    expect(agg.timing({ model: 'mine', latencyMs: 3, experiment: id }, T0 + 2)).toBeUndefined();
    expect(agg.endExperiment(id, T0 + 3)!.summary).toMatchObject({ inferences: 1, dropped: 0 });
  });

  it('refuses experiment starts while too many events wait for a drain, and takes them again after it', () => {
    const agg = new InferenceAggregator({ maxPendingEvents: 10 });
    for (let i = 0; i < 10; i++) agg.endExperiment(agg.startExperiment({ name: `e${i}` }, T0 + i).id, T0 + i);
    expect(() => agg.startExperiment({ name: 'more' }, T0 + 20)).toThrow(expect.objectContaining({ status: 429, message: expect.stringMatching(/^experiment not started: 10 experiment events are waiting/) }));
    expect(agg.stats().experimentsRefused).toBe(1);
    expect(agg.drain(T0 + 1000).experiments).toHaveLength(10);
    expect(agg.startExperiment({ name: 'more' }, T0 + 1001).id).toMatch(/^x-/);
  });
});
