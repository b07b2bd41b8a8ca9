// `nvidia-smi -q`: an indented report of `Key : Value` lines and section headings, one
// `GPU <bus id>` section per GPU. The report is read into a tree by indentation, so a key is
// always looked up in its own section: the `Used` of "FB Memory Usage" is not the `Used` of
// "BAR1 Memory Usage", nor of a MIG device's "Shared FB Memory Usage".
import type { ParsedGpu, ParsedProcess } from '../types.js';
import { GpuMetricSet } from './gpu-metrics.js';
import { gpusFromReadings, type GpuReading } from './samples.js';
import { parseBytes, parseCtimeTimestamp, parsePstate, parseQuantity, parseText, parseWholeInt } from './values.js';

interface Node {
  readonly key: string;
  readonly value?: string;
  readonly indent: number;
  readonly children: Node[];
}

// The key is padded with spaces up to " : "; values may hold colons (bus ids, `C:\` paths).
const KEY_VALUE = /^(\s*)([^:]+?)\s+:\s?(.*)$/;

function buildTree(text: string): Node {
  const root: Node = { key: '', indent: -1, children: [] };
  const stack: Node[] = [root];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || /^=+NVSMI LOG=+$/.test(line.trim())) continue;
    const kv = KEY_VALUE.exec(line);
    const indent = (kv ? kv[1]! : /^\s*/.exec(line)![0]).length;
    const node: Node = kv
      ? { key: kv[2]!.trim(), value: kv[3]!.trim(), indent, children: [] }
      : { key: line.trim(), indent, children: [] };
    while (stack.length > 1 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    stack[stack.length - 1]!.children.push(node);
    stack.push(node);
  }
  return root;
}

function child(node: Node | undefined, key: string): Node | undefined {
  return node?.children.find((c) => c.key.toLowerCase() === key.toLowerCase());
}

function valueAt(node: Node | undefined, ...path: string[]): string | undefined {
  let at = node;
  for (const key of path) at = child(at, key);
  return at?.value;
}

/** All nodes below `node` named `key`, at any depth (power limits moved into a sub-section in 610). */
function findDeep(node: Node | undefined, key: string): Node[] {
  if (!node) return [];
  const out: Node[] = [];
  for (const c of node.children) {
    if (c.key.toLowerCase() === key.toLowerCase()) out.push(c);
    out.push(...findDeep(c, key));
  }
  return out;
}

const num = (raw: string | undefined): number | undefined => parseQuantity(raw)?.value;

/** `610.62 [Deprecated; will be removed …]` → `610.62`. */
function versionText(raw: string | undefined): string | undefined {
  const text = parseText(raw?.replace(/\s*\[.*\]\s*$/, ''));
  return text;
}

function readMetrics(gpu: Node): GpuMetricSet {
  const m = new GpuMetricSet();
  m.set('fan', num(valueAt(gpu, 'Fan Speed')));
  m.set('pstate', parsePstate(valueAt(gpu, 'Performance State')));
  m.set('mem.total', parseBytes(valueAt(gpu, 'FB Memory Usage', 'Total')));
  m.set('mem.used', parseBytes(valueAt(gpu, 'FB Memory Usage', 'Used')));
  m.set('util', num(valueAt(gpu, 'Utilization', 'GPU')));
  m.set('mem.bus_util', num(valueAt(gpu, 'Utilization', 'Memory')));
  m.set('enc.util', num(valueAt(gpu, 'Utilization', 'Encoder')));
  m.set('dec.util', num(valueAt(gpu, 'Utilization', 'Decoder')));
  m.set('temp', num(valueAt(gpu, 'Temperature', 'GPU Current Temp')));
  m.set('temp.mem', num(valueAt(gpu, 'Temperature', 'Memory Current Temp')));
  m.set('clock.gr', num(valueAt(gpu, 'Clocks', 'Graphics')));
  m.set('clock.sm', num(valueAt(gpu, 'Clocks', 'SM')));
  m.set('clock.mem', num(valueAt(gpu, 'Clocks', 'Memory')));
  // "GPU Power Readings" since R530, "Power Readings" before; not the memory or module readings.
  const power = child(gpu, 'GPU Power Readings') ?? child(gpu, 'Power Readings');
  const first = (key: string): number | undefined => findDeep(power, key).map((n) => num(n.value)).find((v) => v !== undefined);
  m.set('power', first('Power Draw'), 0);
  m.set('power', first('Average Power Draw'), 1);
  m.set('power', first('Instantaneous Power Draw'), 2);
  m.set('power.limit', first('Current Power Limit'), 0);
  m.set('power.limit', first('Enforced Power Limit'), 0);
  m.set('power.limit', first('Power Limit'), 1);
  return m;
}

function readProcesses(gpu: Node, gpuIndex: number): ParsedProcess[] {
  const section = child(gpu, 'Processes');
  if (!section) return [];
  const out: ParsedProcess[] = [];
  for (const p of section.children) {
    if (p.key.toLowerCase() !== 'process id') continue;
    const pid = parseWholeInt(p.value);
    if (pid === undefined) continue;
    const usedMemoryBytes = parseBytes(valueAt(p, 'Used GPU Memory'));
    out.push({
      pid,
      name: parseText(valueAt(p, 'Name')) ?? '',
      gpuIndex,
      ...(usedMemoryBytes === undefined ? {} : { usedMemoryBytes }),
    });
  }
  return out;
}

export interface QueryTextResult {
  readonly readings: GpuReading[];
  readonly gpus: ParsedGpu[];
  readonly processes: ParsedProcess[];
  readonly version: Record<string, string>;
}

export function looksLikeQueryText(text: string): boolean {
  return /=+NVSMI LOG=+/.test(text) || (/^GPU [0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f]\s*$/m.test(text) && /^\s+Product Name\s+:/m.test(text));
}

export function parseQueryText(text: string): QueryTextResult {
  const root = buildTree(text);
  const t = parseCtimeTimestamp(valueAt(root, 'Timestamp'));
  const driver = versionText(valueAt(root, 'KMD Version') ?? valueAt(root, 'Driver Version'));
  const cuda = versionText(valueAt(root, 'CUDA UMD Version') ?? valueAt(root, 'CUDA Version'));
  const version: Record<string, string> = {};
  if (driver) version.driver = driver;
  if (cuda) version.cuda = cuda;

  const readings: GpuReading[] = [];
  const processes: ParsedProcess[] = [];
  // `-q` lists GPUs in index order and prints no index, so the order is the index.
  root.children
    .filter((n) => /^GPU [0-9A-Fa-f]{4,8}:/.test(n.key))
    .forEach((gpu, index) => {
      const metrics = readMetrics(gpu);
      const name = parseText(valueAt(gpu, 'Product Name')) ?? '';
      const uuid = parseText(valueAt(gpu, 'GPU UUID'));
      readings.push({ index, t, m: metrics.toRecord(index), name, uuid, driver, memTotalBytes: metrics.get('mem.total') });
      processes.push(...readProcesses(gpu, index));
    });
  return { readings, gpus: gpusFromReadings(readings), processes, version };
}
