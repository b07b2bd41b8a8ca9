// Jetson facts outside tegrastats: the L4T release file, the nvpmodel power mode, sysfs values.
export { jetpackForL4t, parseNvTegraRelease, type NvTegraRelease } from './release.js';
export { parseNvpmodel, type PowerMode } from './nvpmodel.js';
export { parseDevfreqHz, parseGpuLoad, parseSysfsInt } from './sysfs.js';
