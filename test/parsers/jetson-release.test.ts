// /etc/nv_tegra_release (real files, test/fixtures/jetson-sysfs), `nvpmodel -q` and the sysfs
// GPU values. Expected values are read off the files by eye.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { jetpackForL4t, parseDevfreqHz, parseGpuLoad, parseNvpmodel, parseNvTegraRelease } from '../../agent/parsers/jetson/index.js';

const DIR = fileURLToPath(new URL('../fixtures/jetson-sysfs/', import.meta.url));
const fixture = (name: string): string => readFileSync(join(DIR, name), 'utf8');

describe('nv_tegra_release', () => {
  const expected: Record<string, ReturnType<typeof parseNvTegraRelease>> = {
    'etc-nv_tegra_release_head1_tx1_r24.2.1.txt': {
      l4t: '24.2.1',
      board: 't210ref',
      gcid: '8028265',
      eabi: 'aarch64',
      date: 'Thu Nov 10 03:51:59 UTC 2016',
    },
    'etc-nv_tegra_release_nano_r32.5.1.txt': {
      l4t: '32.5.1',
      jetpack: '4.5.1',
      board: 't210ref',
      gcid: '26202423',
      eabi: 'aarch64',
      date: 'Fri Feb 19 16:45:52 UTC 2021',
    },
    'etc-nv_tegra_release_head1_nano_r32.6.1.txt': {
      l4t: '32.6.1',
      jetpack: '4.6',
      board: 't210ref',
      gcid: '27863751',
      eabi: 'aarch64',
      date: 'Mon Jul 26 19:20:30 UTC 2021',
    },
    'etc-nv_tegra_release_nano_r32.7.4.txt': {
      l4t: '32.7.4',
      jetpack: '4.6.4',
      board: 't210ref',
      gcid: '33514132',
      eabi: 'aarch64',
      date: 'Fri Jun  9 04:25:08 UTC 2023',
    },
    'etc-nv_tegra_release_head1_orin-nx_r35.2.1_t186ref.txt': {
      l4t: '35.2.1',
      jetpack: '5.1',
      board: 't186ref',
      gcid: '32413640',
      eabi: 'aarch64',
      date: 'Tue Jan 24 23:38:33 UTC 2023',
    },
    'etc-nv_tegra_release_line1_agx-xavier-industrial_r35.4.1.txt': {
      l4t: '35.4.1',
      jetpack: '5.1.2',
      board: 't186ref',
      gcid: '33958178',
      eabi: 'aarch64',
      date: 'Tue Aug  1 19:57:35 UTC 2023',
    },
    // The setup notes this came from say JetPack 6.2; NVIDIA's archive lists L4T 36.4.0 as
    // JetPack 6.1 (6.2 is 36.4.3), and the table follows NVIDIA.
    'etc-nv_tegra_release_r36.4.0_nova-orin.txt': {
      l4t: '36.4.0',
      jetpack: '6.1',
      board: 'generic',
      gcid: '37537400',
      eabi: 'aarch64',
      date: 'Fri Sep 13 04:36:44 UTC 2024',
      kernelVariant: 'oot',
    },
    'etc-nv_tegra_release_r36.4.4_jp6.2.1.txt': {
      l4t: '36.4.4',
      jetpack: '6.2.1',
      board: 'generic',
      gcid: '41062509',
      eabi: 'aarch64',
      date: 'Mon Jun 16 16:07:13 UTC 2025',
      kernelVariant: 'oot',
    },
    // 36.4.7 is not in the table: no JetPack is guessed for it.
    'etc-nv_tegra_release_orin-nano-super_r36.4.7.txt': {
      l4t: '36.4.7',
      board: 'generic',
      gcid: '42132812',
      eabi: 'aarch64',
      date: 'Thu Sep 18 22:54:44 UTC 2025',
      kernelVariant: 'oot',
    },
  };

  it('covers every release file copied into the fixtures', () => {
    expect(readdirSync(DIR).filter((f) => f.startsWith('etc-nv_tegra_release')).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))('%s', (name, want) => {
    expect(parseNvTegraRelease(fixture(name))).toEqual(want);
  });

  it('maps a two-part revision to the .0 release and refuses other text', () => {
    expect(parseNvTegraRelease('# R32 (release), REVISION: 5, GCID: 1, BOARD: t210ref, EABI: aarch64, DATE: x\n')).toMatchObject({ l4t: '32.5', jetpack: '4.5' });
    expect(jetpackForL4t('36.4')).toBe('6.1');
    expect(jetpackForL4t('99.1.0')).toBeUndefined();
    expect(() => parseNvTegraRelease('PRETTY_NAME="Ubuntu 22.04.4 LTS"\n')).toThrow(
      /not an nv_tegra_release file: expected a line like "# R32 \(release\), REVISION: 7\.4.*got "PRETTY_NAME=/,
    );
    expect(() => parseNvTegraRelease('')).toThrow(/not an nv_tegra_release file/);
  });
});

describe('nvpmodel -q', () => {
  it('reads the name and the number (Orin, Xavier with a fan mode line, a warning in between)', () => {
    expect(parseNvpmodel('NV Power Mode: MAXN\n0\n')).toEqual({ name: 'MAXN', id: 0 });
    expect(parseNvpmodel('NV Fan Mode:cool\nNV Power Mode: MODE_30W_4CORE\n5\n')).toEqual({ name: 'MODE_30W_4CORE', id: 5 });
    expect(parseNvpmodel('NV Power Mode: MAXN_SUPER\r\n2\r\n')).toEqual({ name: 'MAXN_SUPER', id: 2 });
    expect(parseNvpmodel('NVPM WARN: power mode is not set\nNV Power Mode: 15W\nNVPM WARN: x\n1\n')).toEqual({ name: '15W', id: 1 });
    expect(parseNvpmodel('NV Power Mode: 25W\n')).toEqual({ name: '25W' });
  });

  it('refuses output without a power mode line', () => {
    expect(() => parseNvpmodel('NVPM ERROR: failed to open /var/lib/nvpmodel/status\n')).toThrow(
      'not nvpmodel -q output: expected a line "NV Power Mode: <name>", got "NVPM ERROR: failed to open /var/lib/nvpmodel/status"',
    );
    expect(() => parseNvpmodel('NV Power Mode:\n0\n')).toThrow(/without a mode name/);
  });
});

describe('sysfs GPU values', () => {
  it('reads the per-mille load file of the Jetson Nano capture', () => {
    const load = /^\/sys\/devices\/gpu\.0\/load:(.*)$/m.exec(fixture('grep-sys-devices-gpu.0_jetson-nano-gm20b_partial.txt'))?.[1];
    expect(load).toBe('0');
    expect(parseGpuLoad(load)).toBe(0);
    expect(parseGpuLoad('347\n')).toBe(34.7);
    expect(parseGpuLoad('1000')).toBe(100);
    for (const bad of [undefined, '', '1001', '-1', '12.5', 'no']) expect(parseGpuLoad(bad)).toBeUndefined();
  });

  it('reads devfreq cur_freq in Hz as MHz (the Nano capture freq_request)', () => {
    const hz = /^\/sys\/devices\/gpu\.0\/freq_request:(.*)$/m.exec(fixture('grep-sys-devices-gpu.0_jetson-nano-gm20b_partial.txt'))?.[1];
    expect(parseDevfreqHz(hz)).toBe(921.6);
    expect(parseDevfreqHz('x')).toBeUndefined();
  });
});
