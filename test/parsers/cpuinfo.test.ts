import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeRevisionCode, parseCpuinfo } from '../../agent/parsers/proc/cpuinfo.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/raspberry-pi');
const fixture = (name: string) => readFileSync(join(DIR, name), 'utf8');
const GB = 2 ** 30;

describe('parseCpuinfo on Raspberry Pi captures', () => {
  it('Compute Module 4 8GB (no model name lines)', () => {
    expect(parseCpuinfo(fixture('proc-cpuinfo_rpi-cm4-8gb-rev1.1_aarch64.txt'))).toEqual({
      hardware: 'BCM2835',
      revision: 'd03141',
      serial: '10000000afbf721a',
      model: 'Raspberry Pi Compute Module 4 Rev 1.1',
      processors: 4,
    });
  });

  it('3 Model B Plus (arm64 kernel: no model name)', () => {
    expect(parseCpuinfo(fixture('proc-cpuinfo_rpi3-model-b-plus-rev1.3_aarch64.txt'))).toEqual({
      hardware: 'BCM2835',
      revision: 'a020d3',
      serial: '00000000e4bc4f5f',
      model: 'Raspberry Pi 3 Model B Plus Rev 1.3',
      processors: 4,
    });
  });

  it('3 Model B (model name lines do not shadow Model)', () => {
    expect(parseCpuinfo(fixture('proc-cpuinfo_rpi3-model-b-rev1.2_aarch64.txt'))).toEqual({
      hardware: 'BCM2835',
      revision: 'a02082',
      serial: '000000002e2fe545',
      model: 'Raspberry Pi 3 Model B Rev 1.2',
      processors: 4,
    });
  });

  it('a newer kernel without Hardware, and text that is not cpuinfo', () => {
    const text = fixture('proc-cpuinfo_rpi-cm4-8gb-rev1.1_aarch64.txt').replace(/^Hardware.*\n/m, '');
    expect(parseCpuinfo(text).hardware).toBeUndefined();
    expect(parseCpuinfo(text).revision).toBe('d03141');
    expect(parseCpuinfo('')).toEqual({ processors: 0 });
    expect(parseCpuinfo('Revision : not-hex\n')).toEqual({ processors: 0 });
  });
});

describe('decodeRevisionCode', () => {
  it('d03141: CM4 rev 1.1, 8GB, Sony UK, BCM2711', () => {
    expect(decodeRevisionCode('d03141')).toEqual({
      code: 'd03141',
      style: 'new',
      type: 'CM4',
      typeId: 0x14,
      revision: '1.1',
      memory: '8GB',
      memoryBytes: 8 * GB,
      manufacturer: 'Sony UK',
      processor: 'BCM2711',
      warrantyVoided: false,
    });
  });

  it('a020d3: 3B+ rev 1.3, 1GB, Sony UK, BCM2837', () => {
    expect(decodeRevisionCode('a020d3')).toMatchObject({ type: '3B+', revision: '1.3', memory: '1GB', memoryBytes: GB, manufacturer: 'Sony UK', processor: 'BCM2837' });
  });

  it('a02082: 3B rev 1.2, 1GB, Sony UK, BCM2837', () => {
    expect(decodeRevisionCode('a02082')).toMatchObject({ type: '3B', revision: '1.2', memory: '1GB', manufacturer: 'Sony UK', processor: 'BCM2837' });
  });

  it('other documented codes: factory, SoC, 16GB, a type this table does not know', () => {
    expect(decodeRevisionCode('a52082')).toMatchObject({ type: '3B', manufacturer: 'Stadium' });
    expect(decodeRevisionCode('a22042')).toMatchObject({ type: '2B', processor: 'BCM2837', manufacturer: 'Embest' });
    expect(decodeRevisionCode('e04171')).toMatchObject({ type: '5', revision: '1.1', memory: '16GB', processor: 'BCM2712' });
    expect(decodeRevisionCode('902120')).toMatchObject({ type: 'Zero 2 W', memory: '512MB' });
    // Type 0x1f is not in the documentation's table: the number is kept, no name invented.
    const unknown = decodeRevisionCode('a041f0')!;
    expect(unknown.type).toBeUndefined();
    expect(unknown.typeId).toBe(0x1f);
    // Warranty bit 25.
    expect(decodeRevisionCode('2a02082')).toMatchObject({ type: '3B', warrantyVoided: true });
  });

  it('old-style codes, with and without the over-volted prefix', () => {
    expect(decodeRevisionCode('0010')).toEqual({
      code: '0010',
      style: 'old',
      type: 'B+',
      revision: '1.2',
      memory: '512MB',
      memoryBytes: 512 * 2 ** 20,
      manufacturer: 'Sony UK',
      processor: 'BCM2835',
      warrantyVoided: false,
    });
    expect(decodeRevisionCode('1000002')).toMatchObject({ type: 'B', revision: '1.0', manufacturer: 'Egoman', warrantyVoided: true });
    // 0015 was sold with either memory size.
    expect(decodeRevisionCode('0015')!.memory).toBeUndefined();
  });

  it('is undefined for what is not a code', () => {
    for (const code of ['', 'zz', '0000', '000a', '123456789', 'd03141x']) expect(decodeRevisionCode(code), code).toBeUndefined();
  });
});
