// The frame of `edgewatch top` (agent/top/frame.ts) as pure data → lines: every line within
// the width, the height filled exactly, sections shrinking in order on a small screen, the
// width used on a large one, sorting, help, and hostile text kept off the terminal.
import { describe, expect, it } from 'vitest';
import { renderFrame, sortRows, type FrameOptions } from '../../agent/top/frame.js';
import { parseKeys } from '../../agent/top/keys.js';
import { TopLiveState } from '../../agent/top/live.js';
import { ModelTracker } from '../../agent/top/models.js';
import { nextPollMs } from '../../agent/top/run.js';
import type { TopSnapshot } from '../../agent/top/snapshot.js';
import { fit, sanitize, visibleWidth } from '../../agent/top/text.js';
import type { ProcessRow } from '../../shared/protocol.js';

const NOW = Date.UTC(2026, 11, 3, 20, 0, 0);
const ESC = '\x1b';

function rows(n: number): ProcessRow[] {
  // CPU and memory in different orders, so the two sorts are told apart.
  return Array.from({ length: n }, (_, i) => ({ pid: 1000 + i, name: `proc${i}`, cmd: `/usr/bin/proc${i} --flag ${i}`, user: 'edge', cpu: (i * 37) % 101, rss: ((i * 53) % 97) * 1048576, threads: 1 }));
}

function base(m: Record<string, number>, extra: Partial<TopSnapshot> = {}): TopSnapshot {
  return {
    device: { name: 'box', hostname: 'box' },
    agentVersion: '0.1.0',
    intervalMs: 1000,
    processIntervalMs: 5000,
    capabilities: ['cpu', 'memory', 'load', 'processes'],
    inventory: {},
    sample: { t: NOW - 300, m },
    processes: { rows: rows(40), total: 240, t: NOW - 2000 },
    modelNames: {},
    experiments: [],
    ...extra,
  };
}

function cpu(cores: number): Record<string, number> {
  const m: Record<string, number> = { 'cpu.util': 42, 'cpu.freq': 2400, 'load.1': 1.5, 'load.5': 1.2, 'load.15': 0.9, 'mem.total': 8 * 2 ** 30, 'mem.used': 3 * 2 ** 30, 'mem.util': 37.5, 'swap.total': 2 * 2 ** 30, 'swap.used': 0, 'procs.count': 240, 'procs.running': 3 };
  for (let c = 0; c < cores; c++) {
    m[`cpu.core.${c}.util`] = (c * 13) % 100;
    m[`cpu.core.${c}.freq`] = 1800 + c;
  }
  return m;
}

function twoGpus(): TopSnapshot {
  const m = cpu(8);
  for (const i of [0, 1]) {
    Object.assign(m, { [`gpu.${i}.util`]: 90 - i * 50, [`gpu.${i}.mem.used`]: 20 * 2 ** 30, [`gpu.${i}.mem.total`]: 141 * 2 ** 30, [`gpu.${i}.power`]: 650, [`gpu.${i}.power.limit`]: 700, [`gpu.${i}.temp`]: 55, [`gpu.${i}.clock.sm`]: 1980, [`gpu.${i}.clock.mem`]: 2619 });
  }
  Object.assign(m, { 'temp.coretemp_package_id_0': 61, 'net.eth0.rx_bps': 1.2e6, 'net.eth0.tx_bps': 3000, 'disk.nvme0n1.read_bps': 0, 'disk.nvme0n1.write_bps': 5e6, 'infer.resnet18_int8.rate': 79.1, 'infer.resnet18_int8.latency.p50': 12.6, 'infer.resnet18_int8.latency.p99': 15.3 });
  return base(m, {
    capabilities: ['cpu', 'memory', 'load', 'nvidia-gpu', 'processes'],
    inventory: { gpus: [{ index: 0, name: 'NVIDIA H200' }, { index: 1, name: 'NVIDIA H200' }] },
    modelNames: { resnet18_int8: 'resnet18-int8' },
    experiments: [{ id: 'x-abc', name: 'mlp/dense', start: NOW - 83_000 }],
  });
}

function jetson(): TopSnapshot {
  const m = cpu(4);
  Object.assign(m, {
    'gpu.0.util': 0,
    'gpu.0.clock.gr': 76,
    'jetson.emc.util': 10,
    'jetson.emc.freq': 1600,
    'jetson.engine.nvenc.freq': 716,
    'jetson.engine.nvdec.freq': 716,
    'jetson.engine.ape.freq': 25,
    'power.board': 4.52,
    'power.rail.pom_5v_in': 4.52,
    'power.rail.pom_5v_in.avg': 4.68,
    'power.rail.pom_5v_gpu': 0,
    'power.rail.pom_5v_cpu': 1.078,
    'temp.cpu': 60.5,
    'temp.gpu': 59,
  });
  return base(m, { capabilities: ['cpu', 'memory', 'jetson', 'processes'], inventory: { jetson: { powerMode: 'MAXN', l4t: '32.7.4' } } });
}

function pi(): TopSnapshot {
  const m = cpu(4);
  Object.assign(m, { 'pi.throttle.bits': 0x50005, 'pi.throttle.under_voltage': 1, 'pi.throttle.throttled': 1, 'pi.throttle.freq_capped': 0, 'pi.throttle.soft_temp_limit': 0, 'pi.throttle.under_voltage_since_boot': 1, 'pi.throttle.throttled_since_boot': 1, 'pi.clock.arm': 600, 'pi.clock.core': 250, 'pi.volt.core': 1.2 });
  return base(m, { capabilities: ['cpu', 'memory', 'raspberry-pi', 'processes'] });
}

const opts = (over: Partial<FrameOptions> = {}): FrameOptions => ({ width: 80, height: 24, sort: 'cpu', help: false, color: false, now: NOW, source: { kind: 'agent', url: 'http://127.0.0.1:7262' }, models: [], ...over });

function models(snap: TopSnapshot): FrameOptions['models'] {
  const t = new ModelTracker();
  t.update(snap);
  return t.rows();
}

/** The rows of the process table: lines that start with a right-aligned pid. */
function tableRows(lines: string[]): { pid: number; cpu: number; mem: string }[] {
  const head = lines.findIndex((l) => /^\s+PID USER/.test(l));
  return lines
    .slice(head + 1)
    .filter((l) => /^\s*\d+ /.test(l))
    .map((l) => ({ pid: Number(l.slice(0, 7)), cpu: Number(l.slice(18, 24)), mem: l.slice(25, 34).trim() }));
}

describe('top frame', () => {
  for (const [name, snap] of [
    ['an x86 box with 2 GPUs', twoGpus()],
    ['a Jetson', jetson()],
    ['a Raspberry Pi', pi()],
    ['a 128-core server', base(cpu(128))],
  ] as const) {
    for (const [w, h] of [
      [80, 24],
      [120, 40],
      [160, 50],
      [40, 10],
    ] as const) {
      it(`${name} at ${w}×${h}: exactly ${h} lines, none wider than ${w}, plain text without colour`, () => {
        const lines = renderFrame(snap, opts({ width: w, height: h, models: models(snap) }));
        expect(lines).toHaveLength(h);
        for (const l of lines) expect(visibleWidth(l), l).toBeLessThanOrEqual(w);
        expect(lines.join('\n')).not.toContain(ESC);
        expect(lines.at(-1)).toContain('q quit');
        expect(lines[0]).toContain('attached to agent 127.0.0.1:7262');
      });
    }
  }

  it('shows both GPUs, the model with calls/s, p50 and p99 under its own name, and the running experiment at 80×24', () => {
    const snap = twoGpus();
    const text = renderFrame(snap, opts({ models: models(snap) })).join('\n');
    expect(text).toMatch(/GPU0 H200 .*90%/);
    expect(text).toMatch(/GPU1 H200 .*40%/);
    expect(text).toContain('650 W / 700 W');
    expect(text).toMatch(/resnet18-int8\s+79\.1\s+12\.6 ms\s+15\.3 ms/);
    expect(text).toContain('Experiment mlp/dense (x-abc) running 1:23');
  });

  it('shows the Jetson rails, EMC, engines and power mode', () => {
    const text = renderFrame(jetson(), opts()).join('\n');
    expect(text).toMatch(/GPU .*0% @ 76 MHz/);
    expect(text).toContain('EMC 10% @ 1.60 GHz');
    expect(text).toContain('mode MAXN');
    expect(text).toMatch(/Engines\s+APE 25 MHz\s+NVDEC 716 MHz\s+NVENC 716 MHz/);
    expect(text).toMatch(/Rails\s+board 4\.5 W\s+POM_5V_CPU 1\.1 W/);
    expect(text).toContain('POM_5V_IN 4.5 W (avg 4.7 W)');
  });

  it('shows the Pi throttle flags now and since boot, clocks and volts', () => {
    const text = renderFrame(pi(), opts()).join('\n');
    expect(text).toContain('now: UNDER-VOLTAGE, THROTTLED');
    expect(text).toContain('since boot: under-voltage, throttled');
    expect(text).toMatch(/arm 600 MHz\s+core 250 MHz\s+volts\s+core 1\.20 V/);
  });

  it('uses a wider screen: more core columns, the GPU memory and I/O columns, more process rows', () => {
    const snap = base(cpu(32));
    const narrow = renderFrame(snap, opts({ width: 80, height: 24 }));
    const wide = renderFrame(snap, opts({ width: 160, height: 50 }));
    const coresPerLine = (lines: string[]): number => Math.max(...lines.map((l) => (l.match(/cpu\d+ +\[/g) ?? []).length));
    expect(coresPerLine(narrow)).toBe(3);
    expect(coresPerLine(wide)).toBe(5);
    // Every core fits on the tall screen; the short one gives them up before the table.
    expect(wide.join('\n')).toContain('cpu31 [');
    expect(tableRows(wide).length).toBeGreaterThan(tableRows(narrow).length);
    expect(tableRows(narrow).length).toBeGreaterThanOrEqual(3);
    expect(wide.find((l) => /PID USER/.test(l))).toMatch(/GPU MEM\s+READ\s+WRITE\s+COMMAND/);
    expect(narrow.find((l) => /PID USER/.test(l))).not.toContain('READ');
  });

  it('sorts the table by CPU or by memory', () => {
    const snap = base(cpu(2));
    const byCpu = tableRows(renderFrame(snap, opts({ sort: 'cpu', height: 40 })));
    const byMem = tableRows(renderFrame(snap, opts({ sort: 'mem', height: 40 })));
    const expectedCpu = sortRows(snap.processes!.rows, 'cpu').map((r) => r.pid);
    const expectedMem = sortRows(snap.processes!.rows, 'mem').map((r) => r.pid);
    expect(byCpu.map((r) => r.pid)).toEqual(expectedCpu.slice(0, byCpu.length));
    expect(byMem.map((r) => r.pid)).toEqual(expectedMem.slice(0, byMem.length));
    expect(byCpu.map((r) => r.pid)).not.toEqual(byMem.map((r) => r.pid));
    for (let i = 1; i < byCpu.length; i++) expect(byCpu[i]!.cpu).toBeLessThanOrEqual(byCpu[i - 1]!.cpu);
  });

  it('--once (infinite height) shows every core and every process row', () => {
    const snap = base(cpu(64));
    const lines = renderFrame(snap, opts({ height: Infinity }));
    expect(lines.join('\n')).toContain('cpu63 [');
    expect(tableRows(lines)).toHaveLength(40);
  });

  it('shows the help in place of the body, and says where the data comes from', () => {
    const lines = renderFrame(base(cpu(2)), opts({ help: true, source: { kind: 'direct', why: 'no agent at 127.0.0.1:7262' } }));
    expect(lines[0]).toContain('sampling directly (no agent at 127.0.0.1:7262)');
    expect(lines.join('\n')).toContain('edgewatch top: keys');
    expect(tableRows(lines)).toHaveLength(0);
  });

  it('colours only when asked, and a cut keeps escape sequences whole', () => {
    const lines = renderFrame(twoGpus(), opts({ color: true, width: 60 }));
    expect(lines.join('\n')).toContain(`${ESC}[`);
    for (const l of lines) expect(visibleWidth(l)).toBeLessThanOrEqual(60);
    const cut = fit(`\x1b[31m${'x'.repeat(20)}\x1b[0m`, 5);
    expect(cut).toBe('\x1b[31mxxxx…\x1b[0m');
  });

  it('keeps hostile process names and commands off the terminal', () => {
    const evil: ProcessRow = { pid: 666, name: 'evil', cmd: 'sh -c \x1b]0;owned\x07\x1b[2J\u202eeman 漢字 a\u0301', user: 'x\x1b[31m', cpu: 100, rss: 1 };
    const snap = base(cpu(2), { processes: { rows: [evil], total: 1, t: NOW } });
    const text = renderFrame(snap, opts()).join('\n');
    expect(text).not.toContain(ESC);
    expect(text).not.toContain('\x07');
    expect(text).not.toContain('\u202e');
    expect(sanitize('漢字')).toBe('??');
    expect(text).toContain('666');
  });

  it('waits for the first sample without failing', () => {
    const lines = renderFrame(base({}, { sample: null, processes: null }), opts());
    expect(lines.join('\n')).toContain('waiting for the first sample');
    expect(lines).toHaveLength(24);
  });
});

describe('top keys, models, live state and polling', () => {
  it('parses keys, several per read, skipping escape sequences', () => {
    expect(parseKeys('q')).toEqual(['quit']);
    expect(parseKeys('\x03')).toEqual(['quit']);
    expect(parseKeys('smh')).toEqual(['sort-cpu', 'sort-mem', 'help']);
    // An arrow key (ESC [ A) is not a lone Esc, and its letter is not a command.
    expect(parseKeys('\x1b[A\x1bOH')).toEqual([]);
    expect(parseKeys('\x1b')).toEqual(['close']);
  });

  it('remembers a model for a minute after its last call, at 0 calls/s', () => {
    const t = new ModelTracker();
    const snap = (at: number, m: Record<string, number>): TopSnapshot => base(m, { sample: { t: at, m } });
    t.update(snap(NOW, { 'infer.a.rate': 10, 'infer.a.latency.p50': 2, 'infer.a.latency.p99': 3 }));
    t.update(snap(NOW + 1000, { 'cpu.util': 1 }));
    expect(t.rows()).toEqual([{ model: 'a', rate: 0, p50: 2, p99: 3, t: NOW }]);
    t.update(snap(NOW + 61_000, { 'cpu.util': 1 }));
    expect(t.rows()).toEqual([]);
  });

  it('the agent side keeps the newest values, the newest table, model names and open experiments', () => {
    const live = new TopLiveState({ device: { name: 'd', hostname: 'h' }, agentVersion: '1', intervalMs: 1000, processIntervalMs: 5000, capabilities: [], inventory: {} });
    live.record({ t: 1000, m: { 'cpu.util': 5 }, p: { rows: rows(2), total: 2 }, e: [{ id: 'x1', name: 'run', start: 900 }] });
    live.record({ t: 2000, m: {}, i: [{ model: 'yolo-n', t: 1000, count: 1, sum: 1, sumSq: 1, min: 1, max: 1, items: 1, buckets: [[0, 1]] }] });
    let s = live.snapshot();
    // A tick with only histograms keeps the previous values on screen.
    expect(s.sample).toEqual({ t: 1000, m: { 'cpu.util': 5 } });
    expect(s.processes?.t).toBe(1000);
    expect(s.modelNames).toEqual({ yolo_n: 'yolo-n' });
    expect(s.experiments).toEqual([{ id: 'x1', name: 'run', start: 900 }]);
    live.record({ t: 3000, m: { 'cpu.util': 6 }, e: [{ id: 'x1', name: 'run', start: 900, end: 2900 }] });
    s = live.snapshot();
    expect(s.experiments).toEqual([]);
    expect(s.sample?.m['cpu.util']).toBe(6);
  });

  it('polls the agent just after its next tick', () => {
    const snap = base({}, { sample: { t: NOW, m: {} } });
    expect(nextPollMs(snap, NOW + 300)).toBe(850);
    expect(nextPollMs(snap, NOW + 1200)).toBe(500);
    expect(nextPollMs(base({}, { sample: null }), NOW)).toBe(1000);
  });
});
