import { PROTOCOL_VERSION, type Hello } from '../../shared/protocol.js';

export function helloFrame(id: string, overrides: Partial<Hello> = {}): Hello {
  return {
    type: 'hello',
    v: PROTOCOL_VERSION,
    device: { id, name: `device ${id}`, hostname: `${id}.local` },
    agent: { version: 'test' },
    intervalMs: 1000,
    capabilities: ['cpu'],
    inventory: { os: { platform: 'linux' } },
    clock: Date.now(),
    ...overrides,
  };
}
