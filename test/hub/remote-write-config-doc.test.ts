// The hub config documented in docs/scaling.md is one the hub takes: the JSON example there is
// read back and checked with the same schema `edgewatch hub --config` uses, so the docs cannot
// drift from the code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HubConfigSchema } from '../../cli/remote-write-options.js';
import { REPO_ROOT } from '../helpers/processes.js';

describe('docs/scaling.md hub config example', () => {
  it('parses with the hub config schema, every documented key known', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/scaling.md'), 'utf8');
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const parsed = HubConfigSchema.safeParse(JSON.parse(block));
      expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
      expect(parsed.data?.remoteWrite?.length).toBeGreaterThan(0);
    }
  });
});
