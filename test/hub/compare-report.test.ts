// The comparison reports (Markdown, HTML with inline SVG) and the CSV on a hand-built
// ComparisonResponse: an fp32 original and a compressed variant, 3 trials each, with scores,
// warm-up, run conditions that differ, and names meant to break each format; then the route's
// format=html headers through a real hub.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { silentLogger } from '../../shared/log.js';
import { PROTOCOL_VERSION, type Sample } from '../../shared/protocol.js';
import { helloFrame } from '../helpers/hello.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TestPeer } from '../helpers/ws-client.js';
import { comparisonCsv, comparisonHtml, comparisonMarkdown, csvCell, mdCell } from '../../dashboard/server/compare-export.js';
import { barChartSvg, niceTicks, paretoFront, scatterSvg, stripChartSvg } from '../../dashboard/server/report-svg.js';
import type { RunConditions } from '../../shared/conditions.js';
import type { Score } from '../../shared/inference.js';
import type { ComparisonResponse, Estimate, ExperimentStats, RepeatGroup, TrialSummary } from '../../shared/live.js';
import { comparison, estimate as est, experimentStats, parseCsv, repeatGroup, trialSummary } from '../helpers/comparison-fixtures.js';

const EVIL = '<img src=x onerror=alert(1)>|=HYPERLINK("http://x")';
const EVIL_SCORE = '=cmd|\' /C calc\'!A0 *b* _i_ `c` [x](http://evil) <b>';
const EVIL_DEVICE = '=HYPERLINK("http://x","pwn")';
const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const MiB = 1024 * 1024;

const MAXN: RunConditions = {
  agentVersion: '0.9.0',
  kernel: '5.15.136-tegra',
  powerMode: 'MAXN',
  powerModeId: 0,
  jetsonClocks: true,
  cpuGovernor: 'performance',
  cpuMinMHz: 729,
  cpuMaxMHz: 2201,
  gpus: [{ index: 0, name: 'Orin (nvgpu)', smClockMHz: 1300, powerLimitW: 60 }],
  throttleAtStart: [],
  startTempC: 41,
};
const W15: RunConditions = { ...MAXN, powerMode: '15W', powerModeId: 2, jetsonClocks: false, cpuGovernor: 'schedutil', startTempC: 52, gpus: [{ index: 0, name: 'Orin (nvgpu)', smClockMHz: 612, powerLimitW: 15 }] };

/** A 60 s run of resnet50 on the Orin at MAXN with a board sensor, warm-up excluded: what both variants share. */
function stats(id: string, over: Partial<ExperimentStats>): ExperimentStats {
  return experimentStats(id, {
    deviceId: 'orin-1',
    deviceName: 'Jetson Orin bench',
    tags: { precision: 'fp32' },
    start: T0,
    end: T0 + 60_000,
    models: ['resnet50'],
    inferences: 2900,
    items: 2900,
    durationS: 60,
    inferencesPerS: 48.3,
    itemsPerS: 48.3,
    warmup: { calls: 10 },
    warmupInferences: 10,
    warmupMeanMs: 48.2,
    timingsDropped: 0,
    conditions: MAXN,
    cpuUtilMean: 35,
    cpuUtilPeak: 71,
    gpuUtilMean: 88,
    gpuUtilPeak: 99,
    memUsedPeakBytes: 3.2e9,
    powerSource: 'board',
    powerMetrics: ['power.board'],
    powerMeanW: 14.2,
    powerPeakW: 17.9,
    powerSampleIntervalS: 0.5,
    energyJ: 852,
    energyPerInferenceJ: 0.2938,
    idlePowerW: 4.1,
    netEnergyJ: 606,
    netEnergyPerInferenceJ: 0.209,
    tempPeakC: 61,
    throttled: false,
    throttledS: 0,
    ...over,
  });
}

const BASE_P50 = [20.1, 20.4, 19.8];
const INT8_P50 = [10.5, 10.4, 10.7];
const BASE_TOP1 = [0.761, 0.76, 0.762];
const INT8_TOP1 = [0.749, 0.751, 0.747];
const BASE_EVIL_SCORE = 13.0;
const INT8_EVIL_SCORE = 12.5;

function scores(top1: number, evil: number): Score[] {
  return [
    { name: 'top-1', value: top1, better: 'higher' },
    { name: EVIL_SCORE, value: evil, better: 'lower' },
  ];
}

function runs(): ExperimentStats[] {
  const base = BASE_P50.map((p50, k) =>
    stats(`r-${k + 1}`, {
      name: 'resnet50',
      start: T0 + k * 120_000,
      end: T0 + k * 120_000 + 60_000,
      params: 25_557_032,
      modelBytes: 102_228_128,
      latencyP50Ms: p50,
      latencyP90Ms: p50 * 1.2,
      latencyP95Ms: p50 * 1.3,
      latencyP99Ms: p50 * 1.5,
      latencyMeanMs: p50 * 1.05,
      latencyMaxMs: p50 * 3,
      latencyStdevMs: p50 * 0.08,
      latencyCov: 0.076,
      firstCallMs: [850, 910, 870][k]!,
      scores: scores(BASE_TOP1[k]!, BASE_EVIL_SCORE),
    }),
  );
  const b = base[0]!;
  const int8 = INT8_P50.map((p50, k) => {
    const own = scores(INT8_TOP1[k]!, INT8_EVIL_SCORE);
    return stats(`q-${k + 1}`, {
      name: EVIL,
      deviceId: 'orin-2',
      deviceName: EVIL_DEVICE,
      tags: { precision: 'int8', '@evil': '-2+3' },
      models: ['@SUM(1+1)'],
      start: T0 + 400_000 + k * 120_000,
      end: T0 + 400_000 + k * 120_000 + 60_000,
      params: 6_400_000,
      modelBytes: 25_700_000,
      latencyP50Ms: p50,
      latencyP90Ms: p50 * 1.25,
      latencyP95Ms: p50 * 1.35,
      latencyP99Ms: p50 * 1.6,
      latencyMeanMs: p50 * 1.07,
      latencyMaxMs: p50 * 4,
      latencyStdevMs: p50 * 0.1,
      latencyCov: 0.093,
      firstCallMs: [1210, 1190, 1250][k]!,
      inferencesPerS: 95,
      energyPerInferenceJ: 0.12,
      netEnergyPerInferenceJ: 0.08,
      conditions: W15,
      timingsDropped: k === 2 ? 4 : 0,
      scores: own,
      scoreDeltas: own.map((s) => {
        const bs = b.scores.find((x) => x.name === s.name)!;
        const delta = s.value - bs.value;
        return { name: s.name, better: s.better, value: s.value, baseline: bs.value, delta, worse: s.better === 'higher' ? delta < 0 : delta > 0 };
      }),
    });
  });
  // Ratios versus the baseline experiment r-1, as compare.ts makes them.
  return [...base, ...int8].map((s) => ({
    ...s,
    speedupP50: b.latencyP50Ms! / s.latencyP50Ms!,
    speedupMean: b.latencyMeanMs! / s.latencyMeanMs!,
    compressionParams: b.params! / s.params!,
    spaceSavingParams: (b.params! - s.params!) / s.params!,
    compressionBytes: b.modelBytes! / s.modelBytes!,
    spaceSavingBytes: (b.modelBytes! - s.modelBytes!) / s.modelBytes!,
  }));
}

function group(name: string, members: ExperimentStats[], trials: TrialSummary | null): RepeatGroup {
  const n = members.length;
  return repeatGroup(name, members.map((s) => s.id), trials, { latencyP50Ms: { n, mean: null, stdev: null }, inferences: { n, mean: null, stdev: null } });
}

/** 3 trials with a p50 estimate and a CoV of 1.5 %. */
function trials(p50: Estimate, over: Partial<TrialSummary> = {}): TrialSummary {
  return trialSummary({ n: 3, latencyP50Ms: p50, cov: 0.015, ...over });
}

function response(): ComparisonResponse {
  const experiments = runs();
  const [base, int8] = [experiments.slice(0, 3), experiments.slice(3)];
  return comparison({
    baseline: 'r-1',
    experiments,
    groups: [
      group('resnet50', base, trials(est(20.1, 19.8, 20.4))),
      group(
        EVIL,
        int8,
        trials(est(10.5, 10.4, 10.7), {
          cov: 0.0145,
          inferencesPerS: est(95, 94, 96),
          versusBaseline: { speedup: est(1.914, 1.85, 1.96), pValue: 0.1, verdict: 'no measurable difference' },
          verdict: 'no measurable difference',
          warnings: ['3 trials each: the smallest p a rank test can give is 0.1; run 5 or more for a verdict.'],
        }),
      ),
    ],
    conditionWarnings: ['Run q-1 was in 15W mode, run r-1 in MAXN: power mode changes clocks and latency.', 'jetson_clocks was off for q-1, on for r-1.'],
    notes: ['Warm-up excluded: the first 10 calls of each model are not in the latency, throughput or energy figures.', 'q-3: the agent dropped 4 timings.'],
  });
}

const GENERATED = Date.UTC(2024, 4, 2, 8, 0, 0);

/** Cells of a Markdown table row: pipes not escaped by a backslash (an escaped backslash does not escape). */
function mdCells(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\') {
      cur += ch + (line[i + 1] ?? '');
      i++;
    } else if (ch === '|') {
      cells.push(cur);
      cur = '';
    } else cur += ch;
  }
  cells.push(cur);
  return cells.slice(1, -1).map((c) => c.trim());
}

/** Consecutive lines starting with "|": one table each. */
function mdTables(md: string): string[][] {
  const tables: string[][] = [];
  let cur: string[] | null = null;
  for (const line of md.split('\n')) {
    if (line.startsWith('|')) (cur ??= []).push(line);
    else if (cur) {
      tables.push(cur);
      cur = null;
    }
  }
  if (cur) tables.push(cur);
  return tables;
}

function mdRow(md: string, label: string): string[] | undefined {
  for (const t of mdTables(md)) {
    for (const line of t) {
      const cells = mdCells(line);
      if (cells[0] === label) return cells.slice(1);
    }
  }
  return undefined;
}

const VOID = new Set(['meta']);
const HTML_TAGS = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'p', 'div', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'ul', 'li', 'figure', 'figcaption']);
const SVG_TAGS = new Set(['svg', 'title', 'g', 'rect', 'circle', 'line', 'path', 'polyline', 'text']);
const ATTRS = new Set(['xmlns', 'width', 'height', 'viewbox', 'role', 'aria-label', 'font-family', 'font-size', 'font-weight', 'fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-dasharray', 'x', 'y', 'x1', 'y1', 'x2', 'y2', 'cx', 'cy', 'r', 'd', 'points', 'text-anchor', 'transform', 'class', 'scope', 'lang', 'charset', 'http-equiv', 'content', 'name']);

interface Tag {
  name: string;
  attrs: Record<string, string>;
}

/**
 * A small checker, no regular expressions over the markup: walks the text, reads each tag and its
 * attributes (all double-quoted, no < inside), keeps a stack so every element closes in order, and
 * refuses tags and attributes outside an allow list (no script, img, a, href, src, on*).
 */
function checkMarkup(doc: string, opts: { xml: boolean }): Tag[] {
  const stack: string[] = [];
  const tags: Tag[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`${why} at ${i}: ${JSON.stringify(doc.slice(Math.max(0, i - 40), i + 40))}`);
  };
  while (i < doc.length) {
    const lt = doc.indexOf('<', i);
    const textPart = doc.slice(i, lt === -1 ? doc.length : lt);
    // Text: only entities for &.
    for (let k = textPart.indexOf('&'); k !== -1; k = textPart.indexOf('&', k + 1)) {
      const semi = textPart.indexOf(';', k);
      const ent = textPart.slice(k + 1, semi);
      if (semi === -1 || !['amp', 'lt', 'gt', 'quot', '#39'].includes(ent)) fail('bare &');
    }
    if (lt === -1) break;
    i = lt;
    if (doc.startsWith('<!DOCTYPE html>', i) && !opts.xml) {
      i += '<!DOCTYPE html>'.length;
      continue;
    }
    const gt = doc.indexOf('>', i);
    if (gt === -1) fail('unterminated tag');
    const body = doc.slice(i + 1, gt);
    i = gt + 1;
    if (body.startsWith('/')) {
      const name = body.slice(1).trim();
      if (stack.pop() !== name) fail(`</${name}> closes the wrong element`);
      continue;
    }
    let p = 0;
    while (p < body.length && !' /'.includes(body[p]!)) p++;
    const name = body.slice(0, p);
    if (!(HTML_TAGS.has(name) || SVG_TAGS.has(name))) fail(`tag <${name}> not allowed`);
    const attrs: Record<string, string> = {};
    let selfClosing = false;
    for (;;) {
      while (body[p] === ' ') p++;
      if (p >= body.length) break;
      if (body[p] === '/' && p === body.length - 1) {
        selfClosing = true;
        break;
      }
      const eq = body.indexOf('=', p);
      if (eq === -1 || body[eq + 1] !== '"') fail('attribute without a quoted value');
      const attr = body.slice(p, eq);
      const end = body.indexOf('"', eq + 2);
      if (end === -1) fail('unterminated attribute');
      const value = body.slice(eq + 2, end);
      if (!ATTRS.has(attr.toLowerCase())) fail(`attribute ${attr} not allowed`);
      if (value.includes('<')) fail('< in an attribute');
      attrs[attr] = value;
      p = end + 1;
    }
    tags.push({ name, attrs });
    if (selfClosing || (!opts.xml && VOID.has(name))) continue;
    if (name === 'style') {
      const close = doc.indexOf('</style>', i);
      if (close === -1 || doc.slice(i, close).includes('<')) fail('bad <style>');
      i = close + '</style>'.length;
      continue;
    }
    stack.push(name);
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(' > ')}`);
  return tags;
}

function svgsIn(html: string): string[] {
  const out: string[] = [];
  for (let at = html.indexOf('<svg'); at !== -1; at = html.indexOf('<svg', at + 1)) out.push(html.slice(at, html.indexOf('</svg>', at) + '</svg>'.length));
  return out;
}

const markers = (svg: string): number => checkMarkup(svg, { xml: true }).filter((t) => t.attrs.class === 'marker').length;

describe('comparison report (Markdown)', () => {
  const md = comparisonMarkdown(response(), { generatedAt: GENERATED });

  it('opens with a title, when and which device, and says the charts are in the HTML format', () => {
    const lines = md.split('\n');
    expect(lines[0]).toMatch(/^# Comparison: resnet50 \(baseline\) vs /);
    expect(md).toContain('6 runs of 2 variants, 2024-05-01 10:00:00 UTC to 2024-05-01 10:11:40 UTC (device clock).');
    expect(md).toContain('Devices: Jetson Orin bench (orin-1), =HYPERLINK("http\\://x","pwn") (orin-2).');
    expect(md).toContain('2024-05-02 08:00:00 UTC');
    expect(md).toContain('format=html');
  });

  it('gives δ on p50 with its 95 % CI and the verdict, per variant', () => {
    expect(mdRow(md, 'speedup δ on p50 (×) [95 % CI]')).toEqual(['1 (baseline)', '1.914 [1.85, 1.96]']);
    expect(mdRow(md, 'verdict')).toEqual(['baseline', 'no measurable difference (p = 0.1)']);
    expect(mdRow(md, 'latency p50 (ms) [95 % CI]')).toEqual(['20.1 [19.8, 20.4]', '10.5 [10.4, 10.7]']);
    expect(mdRow(md, 'trials')).toEqual(['3', '3']);
  });

  it('reports first-call latency, warm-up, latency spread, energy gross and net, idle power and units in labels', () => {
    // Medians over the trials.
    expect(mdRow(md, 'first-call latency (ms)')).toEqual(['870', '1210']);
    expect(mdRow(md, 'warm-up')![0]).toBe('first 10 calls per model excluded (10 timings, mean 48.2 ms)');
    expect(mdRow(md, 'latency p95 (ms)')).toEqual([String(Number((20.1 * 1.3).toPrecision(4))), String(Number((10.5 * 1.35).toPrecision(4)))]);
    expect(mdRow(md, 'latency CoV (%)')).toEqual(['7.6', '9.3']);
    expect(mdRow(md, 'energy per inference, gross (mJ)')).toEqual(['293.8', '120']);
    expect(mdRow(md, 'energy per inference, net of idle (mJ)')).toEqual(['209', '80']);
    expect(mdRow(md, 'idle power (W, mean of the 30 s before the start)')).toEqual(['4.1', '4.1']);
    expect(mdRow(md, 'power source')![0]).toBe('board, sampled every 0.5 s');
    expect(mdRow(md, 'time throttled (s)')).toEqual(['0', '0']);
    expect(mdRow(md, 'peak memory (device, MiB)')![0]).toBe((3.2e9 / MiB).toFixed(1));
    // β a plain ratio, the unit in the label.
    expect(mdRow(md, 'space saving β on params (×)')).toEqual(['0', String(Number(((25_557_032 - 6_400_000) / 6_400_000).toPrecision(4)))]);
    expect(mdRow(md, 'compression α on size (×)')![1]).toBe(String(Number((102_228_128 / 25_700_000).toPrecision(4))));
    expect(mdRow(md, 'timings dropped')).toEqual(['0', '4']);
    expect(mdRow(md, 'throughput (inferences/s)')).toEqual(['48.3', '95 [94, 96]']);
  });

  it('gives scores with Δ versus the baseline, in percentage points for a score in [0, 1]', () => {
    expect(mdRow(md, 'score: top-1 (higher is better)')).toEqual(['0.761', '0.749 (Δ -0.012 = -1.2 pp, worse)']);
    const evilRow = mdTables(md)[0]!.map(mdCells).find((c) => c[0]!.startsWith('score: =cmd'));
    expect(evilRow).toBeDefined();
    // Lower is better and it went down: not worse; not in [0, 1]: no points.
    expect(evilRow!.slice(1)).toEqual(['13', '12.5 (Δ -0.5)']);
  });

  it('has the trial table, the quality/cost table, the conditions warnings and table, and the notes', () => {
    const trialRow = mdTables(md)
      .find((t) => t[0]!.includes('median p50 (ms) [95 % CI]'))!
      .map(mdCells)
      .find((c) => c[0] !== 'resnet50 (baseline)' && c[1] === '3')!;
    expect(trialRow.slice(1, 7)).toEqual(['3', '10.5 [10.4, 10.7]', '10.5, 10.4, 10.7', '1.45', '1.914 [1.85, 1.96]', '0.1']);
    expect(trialRow[8]).toContain('run 5 or more');
    expect(md).toContain('## Quality against cost');
    expect(md).toContain('- ⚠ Run q-1 was in 15W mode, run r-1 in MAXN: power mode changes clocks and latency.');
    expect(mdRow(md, 'power mode ≠')).toEqual(['MAXN (0)', 'MAXN (0)', 'MAXN (0)', '15W (2)', '15W (2)', '15W (2)']);
    expect(mdRow(md, 'kernel')).toEqual(Array(6).fill('5.15.136-tegra'));
    expect(mdRow(md, 'GPU 0 ≠')![3]).toBe('Orin (nvgpu) clocks 612/? MHz limit 15 W');
    expect(md).toContain('- Warm-up excluded: the first 10 calls');
  });

  it('escapes hostile names: no HTML, links, formatting, and every table row has as many cells as its header', () => {
    expect(md).not.toContain('<img');
    expect(md).not.toContain('<b>');
    expect(md).toContain('&lt;img src=x onerror=alert(1)&gt;\\|=HYPERLINK("http\\://x")');
    expect(md).toContain('\\[x\\](http\\://evil)');
    expect(md).toContain('\\*b\\* \\_i\\_ \\`c\\`');
    const tables = mdTables(md);
    expect(tables.length).toBeGreaterThanOrEqual(4);
    for (const t of tables) {
      const width = mdCells(t[0]!).length;
      for (const line of t) expect(mdCells(line), line).toHaveLength(width);
    }
    // The headline table: a label column and one per variant.
    expect(mdCells(tables[0]![0]!)).toHaveLength(3);
  });

  it('leaves out trials with single runs and still gives δ without a CI', () => {
    const c = response();
    const one: ComparisonResponse = {
      ...c,
      experiments: [c.experiments[0]!, c.experiments[3]!],
      groups: [group('resnet50', [c.experiments[0]!], null), group(EVIL, [c.experiments[3]!], null)],
    };
    const text = comparisonMarkdown(one, { generatedAt: GENERATED });
    expect(text).not.toContain('## Trials');
    expect(mdRow(text, 'speedup δ on p50 (×) [95 % CI]')).toEqual(['1 (baseline)', String(Number((20.1 / 10.5).toPrecision(4)))]);
    expect(mdRow(text, 'verdict')![1]).toMatch(/^no CI/);
    expect(mdRow(text, 'first-call latency (ms)')).toEqual(['850', '1210']);
  });

  it('calls a CI that spans 1× no measurable difference, whatever the verdict says', () => {
    const c = response();
    const g = c.groups[1]!;
    c.groups[1] = { ...g, trials: { ...g.trials!, versusBaseline: { speedup: est(1.04, 0.97, 1.1), pValue: 0.01, verdict: 'faster' } } };
    expect(mdRow(comparisonMarkdown(c), 'verdict')![1]).toBe('no measurable difference (p = 0.01)');
  });
});

describe('comparison report (HTML)', () => {
  const html = comparisonHtml(response(), { generatedAt: GENERATED });

  it('is one well-formed file with only allowed tags and attributes: no scripts, images, links or handlers', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    const tags = checkMarkup(html, { xml: false });
    expect(tags.some((t) => t.name === 'style')).toBe(true);
    expect(html).not.toMatch(/<(img|script|a|link|iframe|object)\b/i);
    expect(html).not.toContain('http://x"');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;|=HYPERLINK(&quot;http://x&quot;)');
    // The CSP is in the file itself too, for when it is opened from disk.
    expect(tags.find((t) => t.name === 'meta' && t.attrs['http-equiv'] === 'Content-Security-Policy')?.attrs.content).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    );
  });

  it('has the same figures as the Markdown report', () => {
    expect(html).toContain('1.914 [1.85, 1.96]');
    expect(html).toContain('no measurable difference (p = 0.1)');
    expect(html).toContain('0.749 (Δ -0.012 = -1.2 pp, worse)');
    expect(html).toContain('Run q-1 was in 15W mode, run r-1 in MAXN');
    expect(html).toContain('first-call latency (ms)');
  });

  it('draws the p50 bars, the quality scatters (latency and energy) and the trial dots as inline SVG', () => {
    const svgs = svgsIn(html);
    expect(svgs).toHaveLength(4);
    for (const svg of svgs) checkMarkup(svg, { xml: true });
    const [bars, byLatency, byEnergy, dots] = svgs as [string, string, string, string];
    expect(bars).toContain('Latency p50 per variant');
    expect(markers(bars)).toBe(2);
    // CI whiskers on both bars.
    expect(bars.split('class="whisker"')).toHaveLength(3);
    expect(byLatency).toContain('top-1 against latency p50');
    expect(markers(byLatency)).toBe(2);
    expect(byLatency).toContain('class="pareto"');
    expect(byEnergy).toContain('top-1 against energy per inference');
    // A dot per trial: one marker per experiment.
    expect(markers(dots)).toBe(6);
    expect(dots).toContain('&lt;img src=x');
  });
});

describe('comparison CSV', () => {
  const csv = comparisonCsv(response());

  it('has a column per figure, score and Δ, with formulas defused and RFC 4180 quoting', () => {
    const rows = parseCsv(csv);
    expect(rows).toHaveLength(7);
    const header = rows[0]!;
    expect(rows.every((r) => r.length === header.length)).toBe(true);
    const col = (row: string[], name: string) => {
      const k = header.indexOf(name);
      expect(k, name).toBeGreaterThanOrEqual(0);
      return row[k];
    };
    const [base, evil] = [rows[1]!, rows[4]!];
    for (const f of ['latencyP95Ms', 'latencyCov', 'firstCallMs', 'warmupInferences', 'timingsDropped', 'idlePowerW', 'netEnergyPerInferenceJ', 'throttledS', 'powerSampleIntervalS', 'spaceSavingParams']) col(base, f);
    expect(col(base, 'firstCallMs')).toBe('850');
    expect(col(evil, 'score:top-1')).toBe('0.749');
    expect(Number(col(evil, 'scoreDelta:top-1'))).toBeCloseTo(-0.012, 12);
    expect(col(evil, `score:${EVIL_SCORE}`)).toBe('12.5');
    expect(col(evil, 'warmup')).toBe('calls=10');
    expect(col(evil, 'conditions.powerMode')).toBe('15W');
    // β a plain ratio, as in the reports.
    expect(Number(col(evil, 'spaceSavingParams'))).toBeCloseTo((25_557_032 - 6_400_000) / 6_400_000, 12);
    // The name starts with <: not a formula, kept as is (quoted for its ").
    expect(col(evil, 'name')).toBe(EVIL);
    expect(csv).toContain(`"${EVIL.replace(/"/g, '""')}"`);
    expect(col(evil, 'deviceName')).toBe(`'${EVIL_DEVICE}`);
    expect(col(evil, 'models')).toBe("'@SUM(1+1)");
    expect(col(evil, 'tags')).toBe('precision=int8; @evil=-2+3');
    for (const cell of rows.flat()) expect(cell).not.toMatch(/^[=+@\t\r]/);
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('\r=1')).toBe(`"'\r=1"`);
  });
});

describe('report-svg', () => {
  it('finds the Pareto front of a hand-checked set, for scores higher and lower is better', () => {
    const P = (label: string, x: number, y: number) => ({ label, x, y });
    const pts = [P('A', 10, 0.7), P('B', 12, 0.76), P('C', 15, 0.74), P('D', 8, 0.6), P('E', 20, 0.8), P('F', 12, 0.72), P('G', 25, 0.8), P('H', 10, 0.7), P('I', 30, 0.5), P('nan', Number.NaN, 1)];
    // C is beaten by B (faster, better), F by B (as fast, better), G by E (faster, as good), I by everything; A and H tie.
    expect(paretoFront(pts, 'higher').map((p) => p.label)).toEqual(['D', 'A', 'H', 'B', 'E']);
    // Lower is better (WER): D beats all but I, which has the lowest score.
    expect(paretoFront(pts, 'lower').map((p) => p.label)).toEqual(['D', 'I']);
    expect(paretoFront([], 'higher')).toEqual([]);
    expect(paretoFront([P('only', 1, 1)], 'lower').map((p) => p.label)).toEqual(['only']);
  });

  it('makes well-formed SVG with a marker per point and every label escaped', () => {
    const evil = '</text><script>alert(1)</script>&"\'';
    const scatter = scatterSvg(
      [
        { label: evil, x: 20, y: 0.76, size: 100e6, baseline: true },
        { label: 'int8', x: 10, y: 0.75, size: 25e6 },
        { label: 'pruned', x: 15, y: 0.7, size: null },
      ],
      { title: evil, xAxis: 'latency p50 (ms)', yAxis: 'top-1', better: 'higher', sizeLegend: 'model size (bytes)' },
    );
    expect(markers(scatter)).toBe(3);
    expect(scatter).not.toContain('<script');
    // The front is int8 → the baseline; "pruned" is beaten by int8.
    const line = checkMarkup(scatter, { xml: true }).find((t) => t.attrs.class === 'pareto')!;
    expect(line.attrs.points!.split(' ')).toHaveLength(2);
    const bars = barChartSvg([{ label: evil, value: 12, lo: 11, hi: 13 }, { label: 'none', value: null }], { title: 't', axis: 'ms' });
    expect(markers(bars)).toBe(1);
    const strips = stripChartSvg([{ label: evil, values: [1, 2, 3], median: 2 }], { title: 't', axis: 'ms' });
    expect(markers(strips)).toBe(3);
  });

  it('picks round ticks that span the values', () => {
    expect(niceTicks(0, 21.5, 5)).toEqual([0, 5, 10, 15, 20, 25]);
    const t = niceTicks(0.693, 0.812, 5);
    expect(t[0]).toBeLessThanOrEqual(0.693);
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(0.812);
  });
});

describe('mdCell', () => {
  it('escapes table breaks, HTML, emphasis, code, links, math and autolinks', () => {
    expect(mdCell('a|b\r\nc <b>\\')).toBe('a\\|b c &lt;b&gt;\\\\');
    expect(mdCell('![x](y) `c` *e* _f_ ~s~ $m$ #h')).toBe('\\!\\[x\\](y) \\`c\\` \\*e\\* \\_f\\_ \\~s\\~ \\$m\\$ \\#h');
    expect(mdCell('see https://evil.example or www.evil.example, me@evil.example')).toBe('see https\\://evil.example or www\\.evil.example, me\\@evil.example');
  });
});

describe('GET /api/v1/experiments/compare?format=html', () => {
  let hub: Hub;
  let tmp: ReturnType<typeof tempDir>;
  let agent: TestPeer;
  const start = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startHub({ port: 0, host: '127.0.0.1', dataDir: tmp.dir, log: silentLogger() });
    agent = await TestPeer.connect(`ws://127.0.0.1:${hub.port}/ws/agent`);
    agent.send(helloFrame('edge-r', { capabilities: ['cpu', 'power'] }));
    await agent.waitFor((f) => f.type === 'welcome');
    const samples: Sample[] = Array.from({ length: 12 }, (_, k) => ({ t: start + k * 1000, m: { 'power.board': 5 + k } }));
    samples[0]!.e = [{ id: 'h-a', name: 'orig', start, end: start + 5000 }];
    samples[6]!.e = [{ id: 'h-b', name: EVIL, start: start + 6000, end: start + 11_000 }];
    agent.send({ type: 'batch', v: PROTOCOL_VERSION, seq: 1, samples });
    await agent.waitFor((f) => f.type === 'ack' && f.seq === 1);
  });
  afterAll(async () => {
    agent.close();
    await hub.close();
    tmp.remove();
  });

  it('serves one self-contained HTML file under a CSP that allows nothing but inline style', async () => {
    const res = await fetch(`${hub.url}/api/v1/experiments/compare?ids=h-a,h-b&format=html`);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    expect(res.headers.get('content-disposition')).toMatch(/^inline; filename="experiments-\d+\.html"$/);
    checkMarkup(text, { xml: false });
    expect(text).not.toContain('<img');
    expect(text).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});
