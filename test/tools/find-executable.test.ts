import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../agent/tools/find-executable.js';

describe('findExecutable', () => {
  let root: string;
  const dir = (name: string): string => join(root, name);

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'edgewatch-find-'));
    for (const d of ['a', 'b', 'c', 'win']) mkdirSync(dir(d));
    writeFileSync(join(dir('a'), 'tool'), 'not executable');
    chmodSync(join(dir('a'), 'tool'), 0o644);
    writeFileSync(join(dir('b'), 'tool'), '#!/bin/sh\n');
    chmodSync(join(dir('b'), 'tool'), 0o755);
    writeFileSync(join(dir('c'), 'tool'), '#!/bin/sh\n');
    chmodSync(join(dir('c'), 'tool'), 0o755);
    mkdirSync(join(dir('a'), 'dir-not-file'));
    writeFileSync(join(dir('win'), 'nvidia-smi.exe'), '');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('returns the first executable match in PATH order, skipping non-executable files', async () => {
    expect(await findExecutable('tool', [dir('a'), dir('b'), dir('c')].join(':'))).toBe(join(dir('b'), 'tool'));
    expect(await findExecutable('tool', [dir('c'), dir('b')].join(':'))).toBe(join(dir('c'), 'tool'));
  });

  it('returns null when nothing matches, for directories, and for an empty PATH', async () => {
    expect(await findExecutable('tool', dir('a'))).toBeNull();
    expect(await findExecutable('dir-not-file', dir('a'))).toBeNull();
    expect(await findExecutable('nvidia-smi', '')).toBeNull();
  });

  it('ignores empty and relative PATH entries (they would mean the working directory)', async () => {
    expect(await findExecutable('tool', `::.:relative/${dir('b').slice(1)}`)).toBeNull();
  });

  it('takes a name with a slash as a path', async () => {
    expect(await findExecutable(join(dir('b'), 'tool'), '')).toBe(join(dir('b'), 'tool'));
    expect(await findExecutable(join(dir('a'), 'tool'), '')).toBeNull();
  });

  it('tries PATHEXT extensions on Windows', async () => {
    expect(await findExecutable('nvidia-smi', dir('win'), { platform: 'win32', pathExt: '.COM;.EXE' })).toBe(join(dir('win'), 'nvidia-smi.exe'));
  });
});
