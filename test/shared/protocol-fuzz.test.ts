// Property tests for everything that reads untrusted text: parseFrame (agent and browser
// frames) and parseTimingLine (UDP timing lines). Neither may throw, whatever arrives; valid
// frames must survive the trip through JSON unchanged; nothing may touch Object.prototype.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { formatTimingLine, parseTimingLine, type Timing } from '../../shared/inference.js';
import {
  AgentMessageSchema,
  ErrorCodeSchema,
  HubMessageSchema,
  parseFrame,
  PROTOCOL_VERSION,
  SubscribeSchema,
  type Batch,
  type Hello,
  type ParseResult,
} from '../../shared/protocol.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const CODES = new Set(ErrorCodeSchema.options);

/** ok with a value, or a known error code with a message: nothing else. */
function expectWellFormed(r: ParseResult<unknown>): void {
  if (r.ok) expect(r).toHaveProperty('value');
  else {
    expect(CODES.has(r.code)).toBe(true);
    expect(typeof r.message).toBe('string');
  }
}

const PROTO_SNAPSHOT = Object.getOwnPropertyNames(Object.prototype).sort();
function expectPrototypeClean(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_SNAPSHOT);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
}

/** Every object in a parsed value is a plain object or array (no smuggled prototype). */
function expectPlain(value: unknown, depth = 0): void {
  if (depth > 64 || value === null || typeof value !== 'object') return;
  const proto = Object.getPrototypeOf(value);
  expect([Object.prototype, Array.prototype, null]).toContain(proto);
  for (const v of Object.values(value)) expectPlain(v, depth + 1);
}

afterEach(() => expectPrototypeClean());

// ---- arbitraries shaped like the schemas ----

const safeNat = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x));
const nonNeg = fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x));
const text = (max: number) => fc.string({ maxLength: max, unit: 'grapheme-composite' }).filter((s) => s.length <= max);
const deviceId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
const metricName = fc.stringMatching(/^[a-z0-9_]{1,12}(\.[a-z0-9_]{1,12}){0,4}$/).filter((s) => s.length <= 128 && s !== '__proto__');
const expId = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/);
const modelName = fc.stringMatching(/^[A-Za-z0-9_.:/@+-]{1,128}$/);

const processRow = fc.record(
  {
    pid: fc.nat(),
    name: text(64),
    cmd: text(256),
    user: text(64),
    cpu: nonNeg,
    rss: nonNeg,
    readBps: nonNeg,
    writeBps: nonNeg,
    gpuMem: nonNeg,
    threads: fc.nat(),
  },
  { requiredKeys: ['pid', 'name', 'cmd', 'cpu', 'rss'] },
);

const inferenceAggregate = fc
  .record({
    model: modelName,
    experiment: fc.option(expId, { nil: undefined }),
    t: safeNat,
    buckets: fc.array(fc.tuple(fc.integer({ min: -2000, max: 2000 }), fc.integer({ min: 1, max: 1e6 })), { minLength: 1, maxLength: 8 }),
    sum: nonNeg,
    sumSq: nonNeg,
    a: nonNeg,
    b: nonNeg,
    items: fc.nat(),
  })
  .map(({ a, b, experiment, ...rest }) => ({
    ...rest,
    ...(experiment !== undefined ? { experiment } : {}),
    count: rest.buckets.reduce((s, [, c]) => s + c, 0),
    min: Math.min(a, b),
    max: Math.max(a, b),
  }));

const experimentEvent = fc.record(
  {
    id: expId,
    name: text(128).filter((s) => s.length >= 1),
    // `__proto__` as a tag key is dropped by zod's record parsing (no pollution, see the mutation test), so it cannot round-trip.
    tags: fc.dictionary(text(64).filter((k) => k !== '__proto__'), text(256), { maxKeys: 4 }),
    params: fc.nat(),
    modelBytes: fc.nat(),
    start: safeNat,
    end: fc.option(safeNat, { nil: null }),
  },
  { requiredKeys: ['id', 'name', 'start'] },
);

const sample = fc.record(
  {
    t: safeNat,
    m: fc.dictionary(metricName, finite, { maxKeys: 12 }),
    p: fc.record({ rows: fc.array(processRow, { maxLength: 4 }), total: fc.nat() }),
    i: fc.array(inferenceAggregate, { maxLength: 3 }),
    e: fc.array(experimentEvent, { maxLength: 2 }),
  },
  { requiredKeys: ['t', 'm'] },
);

const batchFrame: fc.Arbitrary<Batch> = fc.record(
  {
    type: fc.constant('batch' as const),
    v: fc.constant(PROTOCOL_VERSION),
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    samples: fc.array(sample, { minLength: 1, maxLength: 4 }),
    dropped: fc.nat(),
  },
  { requiredKeys: ['type', 'v', 'seq', 'samples'] },
);

const short = text(256);
const inventory = fc.record(
  {
    os: fc.record({ platform: short, distro: short, release: short, kernel: short, arch: short }, { requiredKeys: [] }),
    cpu: fc.record({ manufacturer: short, brand: short, cores: fc.nat(), physicalCores: fc.nat(), speedMaxMHz: nonNeg }, { requiredKeys: [] }),
    system: fc.record({ manufacturer: short, model: short, virtual: fc.boolean() }, { requiredKeys: [] }),
    board: fc.record({ manufacturer: short, model: short, revision: short, compatible: fc.array(short, { maxLength: 4 }) }, { requiredKeys: [] }),
    jetson: fc.record({ l4t: short, jetpack: short, soc: short, powerMode: short, powerModeId: fc.nat() }, { requiredKeys: [] }),
    memTotalBytes: nonNeg,
    gpus: fc.array(
      fc.record({ index: fc.nat(), name: short, uuid: short, memTotalBytes: nonNeg, driver: short }, { requiredKeys: ['index', 'name'] }),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

const helloFrame: fc.Arbitrary<Hello> = fc.record({
  type: fc.constant('hello' as const),
  v: fc.constant(PROTOCOL_VERSION),
  device: fc.record(
    { id: deviceId, name: text(128).filter((s) => s.length >= 1), hostname: short },
    { requiredKeys: ['id', 'name'] },
  ),
  agent: fc.record({ version: text(64) }),
  intervalMs: fc.integer({ min: 100, max: 3_600_000 }),
  capabilities: fc.array(text(64), { maxLength: 10 }),
  inventory,
  clock: finite,
});

const validFrame = fc.oneof(helloFrame as fc.Arbitrary<Hello | Batch>, batchFrame);

// ---- mutations ----

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Paths to every object/array node of a JSON value (root included). */
function containers(value: Json, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (value !== null && typeof value === 'object') {
    out.push(path);
    for (const [k, v] of Object.entries(value)) containers(v as Json, [...path, Array.isArray(value) ? Number(k) : k], out);
  }
  return out;
}

function at(root: Json, path: (string | number)[]): Json {
  return path.reduce<Json>((node, k) => (node as Record<string, Json>)[k as string]!, root);
}

const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    1e308,
    -1e308,
    -1,
    0,
    -0.5,
    2 ** 53,
    2 ** 53 + 2,
    Number.MAX_SAFE_INTEGER + 1,
    '',
    'x'.repeat(100_000),
    '<img src=x onerror=alert(1)>',
    '\u0000\uffff\ud800',
    null,
    true,
    [],
    {},
    { __proto__: null, polluted: true } as unknown as Json,
  ),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  // Deep nesting: a marker, built in mutate() (fast-check's reporter would overflow printing it).
  fc.integer({ min: 1, max: 5000 }).map((n) => `${DEEP}${n}`),
);

const DEEP = '\u0001deep:';
/** Replaces the markers in JSON text with nested arrays/objects n deep (no recursion here). */
function expandDeep(json: string): string {
  return json.replace(/"\\u0001deep:(\d+)"/g, (_, n: string) => {
    const depth = Number(n);
    let open = '';
    let close = '';
    for (let i = 0; i < depth; i++) {
      open += i % 2 ? '[' : '{"a":';
      close = (i % 2 ? ']' : '}') + close;
    }
    return `${open}1${close}`;
  });
}

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

type Mutation =
  | { kind: 'drop'; pick: number; key: number }
  | { kind: 'set'; pick: number; key: number; value: Json }
  | { kind: 'proto'; pick: number; key: (typeof PROTO_KEYS)[number]; value: Json };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), pick: fc.nat(), key: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), key: fc.nat(), value: hostileValue }),
  fc.record({
    kind: fc.constant('proto' as const),
    pick: fc.nat(),
    key: fc.constantFrom(...PROTO_KEYS),
    value: fc.constantFrom<Json>({ polluted: true, isAdmin: true }, { prototype: { polluted: true } }, 'x', 1, null),
  }),
);

/** Applies mutations to a deep copy; own `__proto__` keys are defined, not assigned, so they survive into the JSON. */
function mutate(frame: unknown, ms: Mutation[]): string {
  const root = JSON.parse(JSON.stringify(frame)) as Json;
  for (const m of ms) {
    const nodes = containers(root);
    const node = at(root, nodes[m.pick % nodes.length]!) as Record<string, Json>;
    const keys = Object.keys(node);
    if (m.kind === 'proto') {
      if (Array.isArray(node)) continue; // arrays with an own `constructor` break splice, and JSON has no such arrays
      Object.defineProperty(node, m.key, { value: JSON.parse(JSON.stringify(m.value)) as Json, enumerable: true, writable: true, configurable: true });
      continue;
    }
    if (keys.length === 0) continue;
    const key = keys[m.key % keys.length]!;
    if (m.kind === 'drop') {
      if (Array.isArray(node)) node.splice(Number(key), 1);
      else delete node[key];
    } else node[key] = JSON.parse(JSON.stringify(m.value) ?? 'null') as Json; // a copy: constants are shared between runs
  }
  return expandDeep(JSON.stringify(root));
}

// ---- properties ----

describe('parseFrame never throws', () => {
  const schemas = [AgentMessageSchema, HubMessageSchema, SubscribeSchema] as const;

  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500, unit: 'binary' }), fc.constantFrom(...schemas), (raw, schema) => {
        expectWellFormed(parseFrame(schema as never, raw));
      }),
      { numRuns: RUNS },
    );
  });

  it('on arbitrary JSON, including objects that look like frames', () => {
    const frameLike = fc.record(
      { type: fc.constantFrom('hello', 'batch', 'subscribe', 'welcome', 'ack', 'error', 'x'), v: fc.oneof(fc.constant(1), fc.jsonValue()), seq: fc.jsonValue(), samples: fc.jsonValue() },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), frameLike), fc.constantFrom(...schemas), (value, schema) => {
        const r = parseFrame(schema as never, JSON.stringify(value) ?? 'null');
        expectWellFormed(r);
        if (r.ok) expectPlain(r.value);
      }),
      { numRuns: RUNS },
    );
  });

  it('on pathological JSON text: deep nesting, huge numbers, long strings, duplicate and prototype keys', () => {
    const cases = [
      '['.repeat(200_000) + ']'.repeat(200_000),
      '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000),
      '['.repeat(100_000),
      JSON.stringify({ type: 'batch', v: 1, seq: 1e400, samples: [{ t: 1, m: {} }] }).replace('Infinity', '1e400'),
      '{"type":"batch","v":1,"seq":1e400,"samples":[{"t":1,"m":{}}]}',
      '{"type":"batch","v":1,"seq":1,"samples":[{"t":-1e400,"m":{"cpu.util":1e999}}]}',
      `{"type":"hello","v":1,"device":{"id":"a","name":"${'n'.repeat(1_000_000)}"}}`,
      '{"type":"batch","type":"hello","v":1,"v":1}',
      '{"__proto__":{"polluted":true},"type":"batch","v":1,"seq":1,"samples":[{"t":1,"m":{}}]}',
      '{"type":"batch","v":1,"seq":1,"samples":[{"t":1,"m":{"__proto__":{"polluted":true}}}]}',
      '{"type":"batch","v":1,"seq":1,"samples":[{"t":1,"m":{"__proto__":5}}]}',
      '{"type":"batch","v":1,"seq":1,"samples":[{"t":1,"m":{"constructor":1,"prototype":2,"toString":3}}]}',
      '{"type":"hello","v":1,"device":{"id":"a","name":"b"},"agent":{"version":"1"},"intervalMs":1000,"capabilities":[],"inventory":{"__proto__":{"polluted":true}},"clock":1}',
      '{"type":"batch","v":1,"seq":1,"samples":[{"t":1,"m":{},"e":[{"id":"x","name":"y","start":1,"tags":{"__proto__":"z","constructor":{"prototype":{"polluted":true}}}}]}]}',
      '{"constructor":{"prototype":{"polluted":true}},"type":"subscribe","v":1,"devices":"*"}',
      '{"v":{"toString":1},"type":"batch"}',
      '{"v":{"__proto__":null}}',
      '\u0000',
      '\ufeff{}',
      'null',
      '"v"',
      '1e309',
    ];
    for (const raw of cases) {
      for (const schema of schemas) {
        const r = parseFrame(schema as never, raw);
        expectWellFormed(r);
        if (r.ok) expectPlain(r.value);
      }
    }
  });
});

describe('parseFrame on a hostile version field', () => {
  // Found by this fuzzing: quoting a deeply nested `v` in the version error overflowed the stack.
  it('does not throw on a deeply nested version field', () => {
    const raw = `{"type":"batch","v":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const result = parseFrame(AgentMessageSchema, raw);
    expect(result).toMatchObject({ ok: false, code: 'unsupported_version' });
  });
});

describe('valid frames', () => {
  it('built from the schemas are accepted and round-trip through JSON unchanged', () => {
    fc.assert(
      fc.property(validFrame, (frame) => {
        const raw = JSON.stringify(frame);
        const r = parseFrame(AgentMessageSchema, raw);
        if (!r.ok) throw new Error(`${r.code}: ${r.message}\n${raw.slice(0, 2000)}`);
        expect(r.value).toEqual(JSON.parse(raw));
        // And once more: what the hub would store is what it would read back.
        expect(parseFrame(AgentMessageSchema, JSON.stringify(r.value))).toEqual(r);
      }),
      { numRuns: RUNS },
    );
  });

  it('mutated (fields dropped, wrong types, huge numbers, deep nesting, long strings, prototype keys) are judged without throwing or polluting', () => {
    fc.assert(
      fc.property(validFrame, fc.array(mutation, { minLength: 1, maxLength: 3 }), (frame, ms) => {
        const raw = mutate(frame, ms);
        const r = parseFrame(AgentMessageSchema, raw);
        expectWellFormed(r);
        if (r.ok) {
          expectPlain(r.value);
          // Whatever is accepted is a frame the schema describes.
          expect(AgentMessageSchema.safeParse(r.value).success).toBe(true);
        }
        expectPrototypeClean();
      }),
      { numRuns: RUNS },
    );
  });

  it('dropping any required field of a hello or batch is rejected with invalid_message', () => {
    const required = { hello: ['type', 'device', 'agent', 'intervalMs', 'capabilities', 'inventory', 'clock'], batch: ['type', 'seq', 'samples'] } as const;
    fc.assert(
      fc.property(validFrame, fc.nat(), (frame, n) => {
        const keys = required[frame.type];
        const key = keys[n % keys.length]!;
        const copy = JSON.parse(JSON.stringify(frame)) as Record<string, unknown>;
        delete copy[key];
        const r = parseFrame(AgentMessageSchema, JSON.stringify(copy));
        expect(r).toMatchObject({ ok: false, code: 'invalid_message' });
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- UDP timing lines ----

const tagKey = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/).filter((k) => !(PROTO_KEYS as readonly string[]).includes(k));
const tagValue = fc.stringMatching(/^[^\s]{0,256}$/).filter((v) => v.length <= 256);
const timing: fc.Arbitrary<Timing> = fc.record(
  {
    model: modelName,
    latencyMs: fc.double({ min: 0, max: 86_400_000, noNaN: true }).map((x) => (Object.is(x, -0) ? 0 : x)),
    batch: fc.integer({ min: 2, max: 1_000_000 }),
    experiment: expId,
    t: safeNat,
    tags: fc.dictionary(tagKey, tagValue, { minKeys: 1, maxKeys: 32 }),
  },
  { requiredKeys: ['model', 'latencyMs'] },
);

describe('parseTimingLine', () => {
  it('never throws on arbitrary text, and answers ok or an error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300, unit: 'binary' }), fc.string({ maxLength: 300 }).map((s) => `ew1 ${s}`)), (line) => {
        const r = parseTimingLine(line);
        if (r.ok) expect(typeof r.timing.model).toBe('string');
        else expect(typeof r.error).toBe('string');
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('reads back every line formatTimingLine writes', () => {
    fc.assert(
      fc.property(timing, (t) => {
        const r = parseTimingLine(formatTimingLine(t));
        if (!r.ok) throw new Error(`${r.error}: ${formatTimingLine(t)}`);
        expect(r.timing).toEqual(t);
      }),
      { numRuns: RUNS },
    );
  });

  it('mutated lines (prototype tag keys, huge numbers, odd whitespace) never throw or pollute', () => {
    const piece = fc.oneof(
      fc.constantFrom('#__proto__=x', '#constructor=y', '#prototype=z', '#__proto__=', 'b=1e309', 't=-1', 'b=0x10', 'x=', '=', '#=', 'b=NaN', 't=9007199254740993', '\u0000', '\t', '\r\n'),
      fc.string({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(timing, fc.array(piece, { maxLength: 6 }), (t, extra) => {
        const r = parseTimingLine(`${formatTimingLine(t)} ${extra.join(' ')}`);
        if (r.ok) expectPlain(r.timing);
        expectPrototypeClean();
      }),
      { numRuns: RUNS },
    );
    // A prototype-named tag key is dropped or kept as an own key, never inherited.
    const r = parseTimingLine('ew1 m 1 #__proto__=polluted #constructor=c');
    expect(r.ok).toBe(true);
    if (r.ok) expect(Object.getPrototypeOf(r.timing.tags)).toBe(Object.prototype);
  });
});
