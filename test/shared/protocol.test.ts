import { describe, expect, it } from 'vitest';
import { AgentMessageSchema, HubMessageSchema, parseFrame, PROTOCOL_VERSION } from '../../shared/protocol.js';

describe('protocol v1 validation', () => {
  it('accepts a well-formed batch and keeps its values', () => {
    const r = parseFrame(AgentMessageSchema, JSON.stringify({ type: 'batch', v: 1, seq: 3, samples: [{ t: 1, m: { 'gpu.0.power': 77.9 } }] }));
    expect(r).toEqual({ ok: true, value: { type: 'batch', v: 1, seq: 3, samples: [{ t: 1, m: { 'gpu.0.power': 77.9 } }] } });
  });

  it('names what is wrong: bad JSON, wrong version, wrong shape', () => {
    expect(parseFrame(AgentMessageSchema, '{')).toMatchObject({ ok: false, code: 'bad_json' });
    expect(parseFrame(AgentMessageSchema, JSON.stringify({ type: 'batch', v: 9 }))).toMatchObject({ ok: false, code: 'unsupported_version' });
    const r = parseFrame(AgentMessageSchema, JSON.stringify({ type: 'batch', v: 1, seq: 0, samples: [] }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('invalid_message');
      expect(r.message).toMatch(/seq/);
      expect(r.message).toMatch(/samples/);
    }
  });

  it('rejects values JSON cannot carry honestly and oversize batches', () => {
    // JSON has no NaN: a string or null where a number belongs is refused, not coerced to 0.
    expect(parseFrame(AgentMessageSchema, JSON.stringify({ type: 'batch', v: 1, seq: 1, samples: [{ t: 1, m: { 'cpu.util': null } }] })).ok).toBe(false);
    expect(parseFrame(AgentMessageSchema, JSON.stringify({ type: 'batch', v: 1, seq: 1, samples: [{ t: 1, m: { 'cpu.util': '5' } }] })).ok).toBe(false);
    const many = Array.from({ length: 1001 }, (_, i) => ({ t: i, m: {} }));
    expect(parseFrame(AgentMessageSchema, JSON.stringify({ type: 'batch', v: 1, seq: 1, samples: many })).ok).toBe(false);
  });

  it('validates what the hub sends too', () => {
    expect(parseFrame(HubMessageSchema, JSON.stringify({ type: 'ack', v: PROTOCOL_VERSION, seq: 5 })).ok).toBe(true);
    expect(parseFrame(HubMessageSchema, JSON.stringify({ type: 'ack', v: PROTOCOL_VERSION })).ok).toBe(false);
  });
});
