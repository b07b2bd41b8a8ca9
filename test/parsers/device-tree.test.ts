import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyBoard, parseDeviceTreeStrings, readBoardIdentity } from '../../agent/platform/board.js';
import { tempDir } from '../helpers/temp-dir.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/device-tree');
const fixture = (name: string) => readFileSync(join(DIR, name), 'utf8');

/** The bytes an `od -t x1z` dump shows, as the file's text (latin1 keeps each byte one char). */
function fromOd(dump: string): string {
  const bytes: number[] = [];
  for (const line of dump.split('\n')) {
    const m = /^[0-7]{7} ((?:[0-9a-f]{2} ?)+)/.exec(line);
    if (m) bytes.push(...m[1]!.trim().split(/\s+/).map((h) => Number.parseInt(h, 16)));
  }
  return Buffer.from(bytes).toString('latin1');
}

describe('parseDeviceTreeStrings', () => {
  it.each([
    ['sys-firmware-devicetree-base_model_rpi1-model-b-rev2_raw-bytes-with-NUL.txt', 'Raspberry Pi Model B Rev 2'],
    ['sys-firmware-devicetree-base_model_rpi2-model-b-rev1.1_raw-bytes-with-NUL.txt', 'Raspberry Pi 2 Model B Rev 1.1'],
    ['sys-firmware-devicetree-base_model_rpi3-model-b-rev1.2_raw-bytes-with-NUL.txt', 'Raspberry Pi 3 Model B Rev 1.2'],
  ])('raw model file %s', (name, model) => {
    const raw = fixture(name);
    expect(raw.endsWith('\0')).toBe(true);
    expect(parseDeviceTreeStrings(raw)).toEqual([model]);
  });

  it.each([
    ['od_sys-firmware-devicetree-base_model_rpi1-model-b-rev2.txt', 'sys-firmware-devicetree-base_model_rpi1-model-b-rev2_raw-bytes-with-NUL.txt'],
    ['od_sys-firmware-devicetree-base_model_rpi2-model-b-rev1.1.txt', 'sys-firmware-devicetree-base_model_rpi2-model-b-rev1.1_raw-bytes-with-NUL.txt'],
    ['od_sys-firmware-devicetree-base_model_rpi3-model-b-rev1.2.txt', 'sys-firmware-devicetree-base_model_rpi3-model-b-rev1.2_raw-bytes-with-NUL.txt'],
  ])('od dump %s is byte for byte the raw file', (od, raw) => {
    expect(fromOd(fixture(od))).toBe(fixture(raw));
  });

  it('the Pi 3 compatible list from its od dump: two NUL-separated entries', () => {
    const raw = fromOd(fixture('od_sys-firmware-devicetree-base_compatible_rpi3.txt'));
    expect(raw).toBe('brcm,bcm2710\0brcm,bcm2709\0');
    expect(parseDeviceTreeStrings(raw)).toEqual(['brcm,bcm2710', 'brcm,bcm2709']);
  });

  it('terminal views (NULs lost) come out as one entry: nothing is split that the text does not separate', () => {
    expect(parseDeviceTreeStrings(fixture('model_jetson-nano-devkit_r32.7.1_terminal-view.txt'))).toEqual(['NVIDIA Jetson Nano Developer Kit']);
    expect(parseDeviceTreeStrings(fixture('compatible_jetson-agx-orin-64gb_terminal-view_nul-stripped.txt'))).toEqual([
      'nvidia,p3737-0000+p3701-0005nvidia,p3701-0005nvidia,tegra234nvidia,tegra23x',
    ]);
  });

  it('empty and whitespace-only input', () => {
    expect(parseDeviceTreeStrings('')).toEqual([]);
    expect(parseDeviceTreeStrings('\0\0 \n')).toEqual([]);
  });
});

describe('classifyBoard', () => {
  it('Raspberry Pis by model or by compatible', () => {
    expect(classifyBoard('Raspberry Pi Model B Rev 2', [])).toBe('raspberry-pi');
    expect(classifyBoard('Raspberry Pi 2 Model B Rev 1.1', [])).toBe('raspberry-pi');
    expect(classifyBoard(undefined, ['brcm,bcm2710', 'brcm,bcm2709'])).toBe('raspberry-pi');
    expect(classifyBoard(undefined, ['raspberrypi,4-compute-module', 'brcm,bcm2711'])).toBe('raspberry-pi');
    expect(classifyBoard(undefined, ['brcm,bcm2710brcm,bcm2709'])).toBe('raspberry-pi');
  });

  it('Jetsons, including a compatible copied from a terminal', () => {
    expect(classifyBoard(fixture('model_jetson-nano-devkit_r32.7.1_terminal-view.txt').trim(), [])).toBe('jetson');
    expect(classifyBoard(undefined, parseDeviceTreeStrings(fixture('compatible_jetson-agx-orin-64gb_terminal-view_nul-stripped.txt')))).toBe('jetson');
  });

  it('other boards', () => {
    expect(classifyBoard(undefined, [])).toBe('other');
    expect(classifyBoard('Pine64 RockPro64', ['pine64,rockpro64', 'rockchip,rk3399'])).toBe('other');
    // Another Broadcom SoC is not a Pi.
    expect(classifyBoard(undefined, ['brcm,bcm28355'])).toBe('other');
  });
});

describe('readBoardIdentity', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  function tree(files: Record<string, string>) {
    const { dir, remove } = tempDir('edgewatch-dt-');
    cleanup = remove;
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), content, 'latin1');
    }
    return { sysRoot: join(dir, 'sys'), procRoot: join(dir, 'proc'), hostRoot: dir };
  }

  it('a Pi 3 from /sys/firmware/devicetree/base', () => {
    const ctx = tree({
      'sys/firmware/devicetree/base/model': fixture('sys-firmware-devicetree-base_model_rpi3-model-b-rev1.2_raw-bytes-with-NUL.txt'),
      'sys/firmware/devicetree/base/compatible': fromOd(fixture('od_sys-firmware-devicetree-base_compatible_rpi3.txt')),
    });
    expect(readBoardIdentity(ctx)).toEqual({ kind: 'raspberry-pi', model: 'Raspberry Pi 3 Model B Rev 1.2', compatible: ['brcm,bcm2710', 'brcm,bcm2709'] });
  });

  it('falls back to /proc/device-tree', () => {
    const ctx = tree({ 'proc/device-tree/model': fixture('sys-firmware-devicetree-base_model_rpi1-model-b-rev2_raw-bytes-with-NUL.txt') });
    expect(readBoardIdentity(ctx)).toEqual({ kind: 'raspberry-pi', model: 'Raspberry Pi Model B Rev 2', compatible: [] });
  });

  it('a Jetson by its release file when there is no device tree, and nothing at all', () => {
    expect(readBoardIdentity(tree({ 'etc/nv_tegra_release': '# R32 (release), REVISION: 7.1\n' }))).toEqual({ kind: 'jetson', compatible: [] });
    expect(readBoardIdentity(tree({}))).toEqual({ kind: 'other', compatible: [] });
  });
});
