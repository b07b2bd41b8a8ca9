// Formatting values for people. Shared by the browser UI and the CLI so a number reads the
// same everywhere: memory in IEC units (GiB, as `free -h` shows), throughput in SI units
// (MB/s, as disk and network tools show), temperatures in °C.
import type { Unit } from './catalog.js';

const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
const SI_RATE = ['B/s', 'kB/s', 'MB/s', 'GB/s', 'TB/s'];

function scaled(value: number, base: number, units: readonly string[]): string {
  let v = Math.abs(value);
  let i = 0;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  const sign = value < 0 ? '-' : '';
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${sign}${v.toFixed(digits)} ${units[i]}`;
}

export function formatBytes(bytes: number): string {
  return scaled(bytes, 1024, IEC);
}

export function formatRate(bytesPerSecond: number): string {
  return scaled(bytesPerSecond, 1000, SI_RATE);
}

/** A value with its unit, for a tooltip, a card or a table cell. */
export function formatValue(value: number | null | undefined, unit: Unit | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  switch (unit) {
    case 'bytes':
      return formatBytes(value);
    case 'B/s':
      return formatRate(value);
    case '%':
      return `${value.toFixed(value >= 10 || value === 0 ? 0 : 1)} %`;
    case '°C':
      return `${value.toFixed(1)} °C`;
    case 'W':
      return `${value.toFixed(value >= 100 ? 0 : 1)} W`;
    case 'V':
      return `${value.toFixed(2)} V`;
    case 'A':
      return `${value.toFixed(2)} A`;
    case 'ms':
      return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : value >= 100 ? `${Math.round(value)} ms` : value >= 1 ? `${value.toFixed(1)} ms` : `${(value * 1000).toFixed(0)} µs`;
    case '/s':
      return value >= 100 ? `${Math.round(value)}/s` : `${value.toFixed(1)}/s`;
    case 'flag':
      return value >= 0.5 ? 'yes' : 'no';
    case 'MHz':
      return value >= 1000 ? `${(value / 1000).toFixed(2)} GHz` : `${Math.round(value)} MHz`;
    case 'rpm':
      return `${Math.round(value)} rpm`;
    case 'load':
      return value.toFixed(2);
    case 'count':
      return String(Math.round(value));
    default:
      return Number.isInteger(value) ? String(value) : value.toFixed(2);
  }
}

/** Short axis label for a unit (the axis shows the numbers, the label says what they are). */
export function formatAxisTick(value: number, unit: Unit | undefined): string {
  switch (unit) {
    case 'bytes':
      return formatBytes(value);
    case 'B/s':
      return formatRate(value);
    default:
      return formatValue(value, unit);
  }
}

/** "3 s ago", "5 min ago", "2 h ago", "4 d ago". */
export function formatAge(ms: number): string {
  if (ms < 0) ms = 0;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s ago`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} d ago`;
}

/** "3 h 0 min", "4 min 10 s", "42 s": the size of a clock step or offset (hub logs, device page). */
export function formatClockStep(ms: number): string {
  const abs = Math.abs(ms);
  const days = Math.floor(abs / 86_400_000);
  const hours = Math.floor((abs % 86_400_000) / 3_600_000);
  const minutes = Math.floor((abs % 3_600_000) / 60_000);
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${Math.floor((abs % 60_000) / 1000)} s`;
  return `${Math.round(abs / 1000)} s`;
}
