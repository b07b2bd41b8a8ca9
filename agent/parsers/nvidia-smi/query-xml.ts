// `nvidia-smi -q -x`: the `-q` report as XML (DTD v10 to v13 in the fixtures). Only direct
// children of each <gpu> are read, so MIG devices' own memory blocks never pass for the GPU's.
import type { ParsedGpu, ParsedProcess } from '../types.js';
import { GpuMetricSet } from './gpu-metrics.js';
import { parseXml, xmlChild, xmlChildren, xmlText, type XmlElement } from './mini-xml.js';
import { gpusFromReadings, type GpuReading } from './samples.js';
import { parseBytes, parseCtimeTimestamp, parsePstate, parseQuantity, parseText, parseWholeInt } from './values.js';

export interface QueryXmlResult {
  readonly readings: GpuReading[];
  readonly gpus: ParsedGpu[];
  readonly processes: ParsedProcess[];
  readonly version: Record<string, string>;
}

export function looksLikeQueryXml(text: string): boolean {
  return /<nvidia_smi_log\b/.test(text);
}

const num = (raw: string | undefined): number | undefined => parseQuantity(raw)?.value;

function readMetrics(gpu: XmlElement): GpuMetricSet {
  const m = new GpuMetricSet();
  m.set('fan', num(xmlText(gpu, 'fan_speed')));
  m.set('pstate', parsePstate(xmlText(gpu, 'performance_state')));
  m.set('mem.total', parseBytes(xmlText(gpu, 'fb_memory_usage', 'total')));
  m.set('mem.used', parseBytes(xmlText(gpu, 'fb_memory_usage', 'used')));
  m.set('util', num(xmlText(gpu, 'utilization', 'gpu_util')));
  m.set('mem.bus_util', num(xmlText(gpu, 'utilization', 'memory_util')));
  m.set('enc.util', num(xmlText(gpu, 'utilization', 'encoder_util')));
  m.set('dec.util', num(xmlText(gpu, 'utilization', 'decoder_util')));
  m.set('temp', num(xmlText(gpu, 'temperature', 'gpu_temp')));
  m.set('temp.mem', num(xmlText(gpu, 'temperature', 'memory_temp')));
  m.set('clock.gr', num(xmlText(gpu, 'clocks', 'graphics_clock')));
  m.set('clock.sm', num(xmlText(gpu, 'clocks', 'sm_clock')));
  m.set('clock.mem', num(xmlText(gpu, 'clocks', 'mem_clock')));
  // <gpu_power_readings> since DTD v12, <power_readings> before.
  const power = xmlChild(gpu, 'gpu_power_readings') ?? xmlChild(gpu, 'power_readings');
  m.set('power', num(xmlText(power, 'power_draw')), 0);
  m.set('power', num(xmlText(power, 'average_power_draw')), 1);
  m.set('power', num(xmlText(power, 'instant_power_draw')), 2);
  m.set('power.limit', num(xmlText(power, 'current_power_limit')), 0);
  m.set('power.limit', num(xmlText(power, 'enforced_power_limit')), 0);
  m.set('power.limit', num(xmlText(power, 'power_limit')), 1);
  return m;
}

function readProcesses(gpu: XmlElement, gpuIndex: number, gpuUuid: string | undefined): ParsedProcess[] {
  const out: ParsedProcess[] = [];
  for (const p of xmlChildren(xmlChild(gpu, 'processes'), 'process_info')) {
    const pid = parseWholeInt(xmlText(p, 'pid'));
    if (pid === undefined) continue;
    const usedMemoryBytes = parseBytes(xmlText(p, 'used_memory'));
    out.push({
      pid,
      name: parseText(xmlText(p, 'process_name')) ?? '',
      gpuIndex,
      ...(gpuUuid === undefined ? {} : { gpuUuid }),
      ...(usedMemoryBytes === undefined ? {} : { usedMemoryBytes }),
    });
  }
  return out;
}

export function parseQueryXml(text: string): QueryXmlResult {
  const log = parseXml(text).find((e) => e.name === 'nvidia_smi_log');
  const t = parseCtimeTimestamp(xmlText(log, 'timestamp'));
  const driver = parseText(xmlText(log, 'driver_version'));
  const cuda = parseText(xmlText(log, 'cuda_version'));
  const version: Record<string, string> = {};
  if (driver) version.driver = driver;
  if (cuda) version.cuda = cuda;

  const readings: GpuReading[] = [];
  const processes: ParsedProcess[] = [];
  // The XML prints no index (minor_number is the /dev/nvidiaN number), but lists GPUs in index order.
  xmlChildren(log, 'gpu').forEach((gpu, index) => {
    const metrics = readMetrics(gpu);
    const name = parseText(xmlText(gpu, 'product_name')) ?? '';
    const uuid = parseText(xmlText(gpu, 'uuid'));
    readings.push({ index, t, m: metrics.toRecord(index), name, uuid, driver, memTotalBytes: metrics.get('mem.total') });
    processes.push(...readProcesses(gpu, index, uuid));
  });
  return { readings, gpus: gpusFromReadings(readings), processes, version };
}
