// Every collector against this machine's own /proc and /sys: detects or declines without
// throwing, and what it samples is sane. Skipped where there is no /proc (not Linux).
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { CollectorFactory, MetricValues } from '../../agent/collectors/collector.js';
import { cpuCollector } from '../../agent/collectors/cpu.js';
import { diskIoCollector } from '../../agent/collectors/disk-io.js';
import { filesystemCollector } from '../../agent/collectors/filesystem.js';
import { hwmonCollector } from '../../agent/collectors/hwmon.js';
import { loadCollector } from '../../agent/collectors/load.js';
import { memoryCollector } from '../../agent/collectors/memory.js';
import { networkCollector } from '../../agent/collectors/network.js';
import { thermalCollector } from '../../agent/collectors/thermal.js';
import { describeMetric } from '../../shared/catalog.js';
import { METRIC_NAME_RE } from '../../shared/protocol.js';
import { silentLogger } from '../../shared/log.js';

const ctx = { procRoot: '/proc', sysRoot: '/sys', hostRoot: '/', intervalMs: 1000, path: process.env.PATH ?? '', log: silentLogger() };
const ALL: readonly CollectorFactory[] = [cpuCollector, loadCollector, memoryCollector, diskIoCollector, filesystemCollector, networkCollector, thermalCollector, hwmonCollector];
// What every Linux machine has; thermal and hwmon may rightly find nothing (VMs, containers).
const ALWAYS = new Set(['cpu', 'load', 'memory', 'filesystem', 'network']);

describe.skipIf(!existsSync('/proc/stat'))('collectors on this machine', () => {
  it('detect, sample twice without throwing, and give sane catalogued values', async () => {
    const found = [];
    for (const factory of ALL) {
      const collector = await factory.detect(ctx);
      if (ALWAYS.has(factory.name)) expect(collector, `${factory.name} should detect on Linux`).not.toBeNull();
      if (collector) found.push(collector);
    }
    const first: MetricValues = {};
    for (const c of found) await c.sample(Date.now(), first);
    await sleep(300);
    const out: MetricValues = {};
    for (const c of found) await c.sample(Date.now(), out);

    for (const [name, value] of Object.entries(out)) {
      expect(name).toMatch(METRIC_NAME_RE);
      expect(describeMetric(name), `${name} is not in the catalog`).not.toBeNull();
      expect(Number.isFinite(value), `${name} = ${value}`).toBe(true);
      const unit = describeMetric(name)!.spec.unit;
      if (unit === '%') expect(value, name).toBeGreaterThanOrEqual(0);
      if (unit === '%') expect(value, name).toBeLessThanOrEqual(100);
      if (unit === 'B/s' || unit === 'bytes' || unit === 'load' || unit === 'MHz') expect(value, name).toBeGreaterThanOrEqual(0);
      if (unit === '°C') expect(value, name).toBeGreaterThan(-100);
      if (unit === '°C') expect(value, name).toBeLessThanOrEqual(200);
    }
    expect(out['cpu.util']).toBeGreaterThanOrEqual(0);
    expect(out['cpu.util']).toBeLessThanOrEqual(100);
    expect(out['mem.total']).toBeGreaterThan(0);
    expect(out['mem.used']).toBeGreaterThan(0);
    expect(out['mem.used']).toBeLessThanOrEqual(out['mem.total']!);
    expect(out['load.1']).toBeGreaterThanOrEqual(0);
    expect(out['fs.rootfs.size']).toBeGreaterThan(0);
    expect(out['fs.rootfs.used']).toBeLessThanOrEqual(out['fs.rootfs.size']!);
    // Rates need a previous reading: none on the first tick.
    expect(Object.keys(first).filter((k) => k.endsWith('_bps') || k === 'cpu.util')).toEqual([]);
  });
});
