// Shared set-up for collector tests: a scenario's fixture tree copied to a temp dir (so a test
// can rewrite counter files between ticks), a context pointing at it, and a clock the test
// moves by hand.
import { cpSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Collector, CollectorContext, CollectorFactory, MetricValues } from '../../agent/collectors/collector.js';
import { silentLogger } from '../../shared/log.js';
import { tempDir } from '../helpers/temp-dir.js';

export const SYSROOT_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/sysroot');

export interface Tree {
  readonly root: string;
  readonly ctx: CollectorContext;
  /** Writes (or overwrites) a file under the tree, e.g. `proc/net/dev`. */
  write(relPath: string, content: string): void;
  /** Copies the files of another scenario over this tree (the next tick's counters). */
  overlay(scenario: string): void;
  remove(): void;
}

/** A writable copy of one or more scenarios, later ones copied over earlier ones. */
export function scenarioTree(...scenarios: string[]): Tree {
  const { dir, remove } = tempDir('edgewatch-collectors-');
  const overlay = (scenario: string) => cpSync(join(SYSROOT_FIXTURES, scenario), dir, { recursive: true });
  for (const s of scenarios) overlay(s);
  return {
    root: dir,
    ctx: contextFor(dir),
    write(relPath, content) {
      mkdirSync(dirname(join(dir, relPath)), { recursive: true });
      writeFileSync(join(dir, relPath), content);
    },
    overlay,
    remove,
  };
}

export function contextFor(root: string, overrides: Partial<CollectorContext> = {}): CollectorContext {
  return {
    procRoot: join(root, 'proc'),
    sysRoot: join(root, 'sys'),
    hostRoot: root,
    intervalMs: 1000,
    path: '',
    log: silentLogger(),
    ...overrides,
  };
}

export class FakeClock {
  constructor(public ms = 1_000_000) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export async function detectOrFail(factory: CollectorFactory, ctx: CollectorContext): Promise<Collector> {
  const collector = await factory.detect(ctx);
  if (!collector) throw new Error(`${factory.name} detected nothing under ${ctx.procRoot} / ${ctx.sysRoot}`);
  return collector;
}

export async function sample(collector: Collector, now = Date.now()): Promise<MetricValues> {
  const out: MetricValues = {};
  await collector.sample(now, out);
  return out;
}

/** The values whose names start with `prefix`, for compact exact assertions. */
export function pick(values: MetricValues, prefix: string): MetricValues {
  return Object.fromEntries(Object.entries(values).filter(([k]) => k.startsWith(prefix)));
}
