// conditionWarnings: which differences between compared runs are named, in what words, and how
// runs with the same difference are grouped into one sentence.
import { describe, expect, it } from 'vitest';
import type { RunConditions } from '../../shared/conditions.js';
import { conditionWarnings, listWords, type ComparedRun } from '../../shared/conditions-diff.js';

/** A Jetson run as readRunConditions records one (cf. test/agent/run-conditions.test.ts). */
const JETSON: RunConditions = {
  agentVersion: '0.1.0',
  kernel: '5.15.148-tegra',
  powerMode: 'MAXN',
  powerModeId: 0,
  jetsonClocks: true,
  cpuGovernor: 'schedutil',
  cpuMinMHz: 2201.6,
  cpuMaxMHz: 2201.6,
  throttleAtStart: [],
  startTempC: 41.5,
};

/** An x86 run with the two GPUs of the fake nvidia-smi in test/fixtures/run-conditions. */
const X86: RunConditions = {
  agentVersion: '0.1.0',
  kernel: '6.18.44-fc-v1147',
  cpuGovernor: 'performance',
  cpuMinMHz: 800,
  cpuMaxMHz: 4500,
  gpuDriver: '590.48.01',
  cudaVersion: '13.1',
  gpus: [
    { index: 0, name: 'NVIDIA H200', smClockMHz: 1980, memClockMHz: 3201, powerLimitW: 700, persistenceMode: true, pstate: 0 },
    { index: 1, name: 'NVIDIA H100 80GB HBM3', smClockMHz: 1980, memClockMHz: 2619, powerLimitW: 700, persistenceMode: true, pstate: 0 },
  ],
  startTempC: 32,
};

const run = (label: string, conditions: RunConditions | null): ComparedRun => ({ label, conditions });
const A = 'run A (dense #1)';
const B = 'run B (pruned #2)';
const C = 'run C (pruned #3)';
const D = 'run D (int8 #4)';

describe('conditionWarnings', () => {
  it('says nothing for identical conditions, a single run, or no runs', () => {
    expect(conditionWarnings([run(A, JETSON), run(B, { ...JETSON })])).toEqual([]);
    expect(conditionWarnings([run(A, X86), run(B, structuredClone(X86)), run(C, structuredClone(X86))])).toEqual([]);
    expect(conditionWarnings([run(A, JETSON)])).toEqual([]);
    expect(conditionWarnings([])).toEqual([]);
  });

  it('names both runs when the power mode differs', () => {
    expect(conditionWarnings([run(A, JETSON), run(B, { ...JETSON, powerMode: '15W', powerModeId: 2 })])).toEqual([
      'run B (pruned #2) was in 15W mode, run A (dense #1) in MAXN',
    ]);
  });

  it('groups runs with the same difference into one sentence, whatever their number', () => {
    const w = conditionWarnings([
      run(A, JETSON),
      run(B, { ...JETSON, powerMode: '15W' }),
      run(C, { ...JETSON, powerMode: '15W' }),
      run(D, JETSON),
    ]);
    expect(w).toEqual(['run B (pruned #2) and run C (pruned #3) were in 15W mode, run A (dense #1) and run D (int8 #4) in MAXN']);

    const three = conditionWarnings([run(A, JETSON), run(B, { ...JETSON, powerMode: '15W' }), run(C, { ...JETSON, powerMode: '7W' }), run(D, { ...JETSON, powerMode: '15W' })]);
    expect(three).toEqual(['run B (pruned #2) and run D (int8 #4) were in 15W mode, run C (pruned #3) in 7W, run A (dense #1) in MAXN']);
  });

  it('names jetson_clocks, the CPU governor and the CPU limits', () => {
    const off: RunConditions = { ...JETSON, jetsonClocks: false, cpuGovernor: 'schedutil', cpuMinMHz: 729.6, cpuMaxMHz: 2201.6 };
    expect(conditionWarnings([run(A, JETSON), run(B, off)])).toEqual([
      'run B (pruned #2) ran with jetson_clocks off, run A (dense #1) with it on',
      'run B (pruned #2) had CPU clocks 729.6–2201.6 MHz, run A (dense #1) pinned at 2201.6 MHz',
    ]);
    expect(conditionWarnings([run(A, X86), run(B, { ...X86, cpuGovernor: 'powersave' }), run(C, { ...X86, cpuGovernor: 'mixed (performance, powersave)' })])).toEqual([
      'run B (pruned #2) was on the powersave CPU governor, run C (pruned #3) on mixed (performance, powersave), run A (dense #1) on performance',
    ]);
    expect(conditionWarnings([run(A, X86), run(B, { ...X86, cpuGovernor: 'mixed (performance, powersave)' })])).toEqual([
      'run B (pruned #2) was on mixed CPU governors (performance, powersave), run A (dense #1) on performance',
    ]);
  });

  it('names the driver with its CUDA version, or the CUDA version alone', () => {
    const older: RunConditions = { ...X86, gpuDriver: '580.159.04', cudaVersion: '13.0' };
    expect(conditionWarnings([run(A, X86), run(B, older)])).toEqual(['run B (pruned #2) used NVIDIA driver 580.159.04 (CUDA 13.0), run A (dense #1) 590.48.01 (CUDA 13.1)']);
    expect(conditionWarnings([run(A, X86), run(B, { ...X86, cudaVersion: '13.0' })])).toEqual(['run B (pruned #2) had CUDA 13.0, run A (dense #1) 13.1']);
    // A run whose CUDA version could not be read is no difference.
    const { cudaVersion: _, ...noCuda } = X86;
    expect(conditionWarnings([run(A, X86), run(B, noCuda)])).toEqual([]);
  });

  it('compares GPU settings per index, naming GPUs that differ the same way together', () => {
    const capped = structuredClone(X86);
    for (const g of capped.gpus!) g.powerLimitW = 450;
    expect(conditionWarnings([run(A, X86), run(B, capped)])).toEqual(['run B (pruned #2) had a 450 W power limit on GPUs 0 and 1, run A (dense #1) 700 W']);

    const mixed = structuredClone(X86);
    mixed.gpus![1]!.persistenceMode = false;
    mixed.gpus![1]!.appSmClockMHz = 1410;
    mixed.gpus![1]!.appMemClockMHz = 2619;
    // GPU 1's application clocks are set in run B only: not recorded for run A, so no difference.
    expect(conditionWarnings([run(A, X86), run(B, mixed)])).toEqual(['run B (pruned #2) had persistence mode off on GPU 1, run A (dense #1) on']);
    const clocked = structuredClone(mixed);
    clocked.gpus![1]!.appSmClockMHz = 1980;
    clocked.gpus![1]!.appMemClockMHz = 2619;
    expect(conditionWarnings([run(A, mixed), run(B, clocked)])).toEqual(['run B (pruned #2) had GPU 1 application clocks at 1980 MHz SM / 2619 MHz memory, run A (dense #1) 1410 MHz SM / 2619 MHz memory']);
  });

  it('ignores the clocks and P-state of the moment, and GPU names (the device is not what is compared)', () => {
    const busy = structuredClone(X86);
    busy.gpus![0] = { ...busy.gpus![0]!, smClockMHz: 345, memClockMHz: 1593, pstate: 2, name: 'NVIDIA H200 NVL' };
    expect(conditionWarnings([run(A, X86), run(B, busy)])).toEqual([]);
  });

  it('names the kernel and the agent version', () => {
    expect(conditionWarnings([run(A, JETSON), run(B, { ...JETSON, kernel: '5.15.136-tegra', agentVersion: '0.2.0' }), run(C, { ...JETSON, agentVersion: '0.2.0' })])).toEqual([
      'run B (pruned #2) ran kernel 5.15.136-tegra, run A (dense #1) and run C (pruned #3) 5.15.148-tegra',
      'run B (pruned #2) and run C (pruned #3) were recorded by agent 0.2.0, run A (dense #1) 0.1.0',
    ]);
  });

  it('warns about throttling already set at the start, one sentence per set of flags', () => {
    const pi: RunConditions = { agentVersion: '0.1.0', throttleAtStart: [], startTempC: 34.2 };
    const w = conditionWarnings([
      run(A, pi),
      run(B, { ...pi, throttleAtStart: ['under_voltage', 'throttled'] }),
      run(C, { ...pi, throttleAtStart: ['under_voltage', 'throttled'] }),
      run(D, { ...pi, throttleAtStart: ['soft_temp_limit'] }),
    ]);
    expect(w).toEqual([
      'run B (pruned #2) and run C (pruned #3) started with the Pi already reporting under-voltage and throttling',
      'run D (int8 #4) started with the Pi already reporting the soft temperature limit',
    ]);
    // Throttling at the start is worth saying even when every run had it.
    expect(conditionWarnings([run(A, { ...pi, throttleAtStart: ['freq_capped'] })])).toEqual(['run A (dense #1) started with the Pi already reporting a capped ARM frequency']);
  });

  it('warns when start temperatures are more than 10 °C apart, hottest first', () => {
    expect(conditionWarnings([run(A, { ...JETSON, startTempC: 41.5 }), run(B, { ...JETSON, startTempC: 51.5 })])).toEqual([]);
    expect(
      conditionWarnings([
        run(A, { ...JETSON, startTempC: 41.5 }),
        run(B, { ...JETSON, startTempC: 63.2 }),
        run(C, { ...JETSON, startTempC: 41.7 }),
        run(D, { ...JETSON, startTempC: 48 }),
      ]),
    ).toEqual(['run B (pruned #2) started at 63 °C, run D (int8 #4) at 48 °C, run A (dense #1) and run C (pruned #3) at 42 °C: 22 °C apart']);
  });

  it('says once which runs have no conditions, and compares the rest', () => {
    expect(conditionWarnings([run(A, JETSON), run(B, null), run(C, { ...JETSON, powerMode: '15W' }), run(D, null)])).toEqual([
      'conditions were not recorded for run B (pruned #2) and run D (int8 #4)',
      'run C (pruned #3) was in 15W mode, run A (dense #1) in MAXN',
    ]);
  });

  it('does not count a field one run lacks as a difference', () => {
    const older: RunConditions = { agentVersion: '0.1.0', kernel: JETSON.kernel! };
    expect(conditionWarnings([run(A, JETSON), run(B, older)])).toEqual([]);
  });

  it('orders the sentences from the most to the least telling, one per difference', () => {
    const other: RunConditions = { ...JETSON, powerMode: '15W', jetsonClocks: false, kernel: '5.15.136-tegra', startTempC: 70 };
    expect(conditionWarnings([run(A, JETSON), run(B, other)])).toEqual([
      'run B (pruned #2) was in 15W mode, run A (dense #1) in MAXN',
      'run B (pruned #2) ran with jetson_clocks off, run A (dense #1) with it on',
      'run B (pruned #2) ran kernel 5.15.136-tegra, run A (dense #1) 5.15.148-tegra',
      'run B (pruned #2) started at 70 °C, run A (dense #1) at 42 °C: 29 °C apart',
    ]);
  });
});

describe('listWords', () => {
  it('joins with commas and a final "and"', () => {
    expect([listWords([]), listWords(['a']), listWords(['a', 'b']), listWords(['a', 'b', 'c'])]).toEqual(['', 'a', 'a and b', 'a, b and c']);
  });
});
