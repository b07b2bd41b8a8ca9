// `nvidia-smi --version`:
//   NVIDIA-SMI version  : 580.159.04
//   NVML version        : 580.159
//   DRIVER version      : 580.159.04
//   CUDA Version        : 13.0
const KEYS: ReadonlyArray<[RegExp, string]> = [
  [/^NVIDIA-SMI version$/i, 'nvidiaSmi'],
  [/^NVML version$/i, 'nvml'],
  // Drivers from 610 call the driver the KMD and name the CUDA user-mode driver separately.
  [/^(DRIVER|KMD) version$/i, 'driver'],
  [/^CUDA (UMD )?Version$/i, 'cuda'],
];

export function looksLikeVersion(text: string): boolean {
  return /^NVIDIA-SMI version\s*:/im.test(text);
}

export function parseVersion(text: string): Record<string, string> {
  const version: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([^:]+?)\s*:\s*(\S+)/.exec(line.trim());
    if (!m) continue;
    const key = KEYS.find(([re]) => re.test(m[1]!))?.[1];
    if (key && !(key in version)) version[key] = m[2]!;
  }
  return version;
}
