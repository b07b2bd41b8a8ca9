// `nvidia-smi -L`: `GPU 0: NVIDIA H200 (UUID: GPU-…)`, with MIG devices indented below their GPU
// (`  MIG 3g.40gb     Device  0: (UUID: MIG-…)`). MIG devices are not GPUs of their own in the
// inventory, so only the GPU lines are read.
import type { ParsedGpu } from '../types.js';

const GPU_LINE = /^GPU (\d+): (.*?)(?: \(UUID: ([^)]*)\))?\s*$/;

export function looksLikeList(text: string): boolean {
  return /^GPU \d+: .*\(UUID: /m.test(text);
}

export function parseList(text: string): ParsedGpu[] {
  const gpus: ParsedGpu[] = [];
  for (const line of text.split('\n')) {
    const m = GPU_LINE.exec(line.replace(/\r$/, ''));
    if (!m) continue;
    const uuid = m[3]?.trim();
    gpus.push({ index: Number(m[1]), name: m[2]!.trim(), ...(uuid ? { uuid } : {}) });
  }
  return gpus;
}
