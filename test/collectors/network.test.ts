import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createNetworkCollector } from '../../agent/collectors/network.js';
import { detectOrFail, FakeClock, pick, sample, scenarioTree, SYSROOT_FIXTURES, type Tree } from './harness.js';

// The x86 VM's real /proc/net/dev: header, lo, ifb0, ifb1, eth0.
const REAL = readFileSync(join(SYSROOT_FIXTURES, 'x86-vm/proc/net/dev'), 'utf8');
const HEADER = REAL.split('\n').slice(0, 2).join('\n');

interface Counters {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}
function netDev(ifaces: Record<string, Counters>): string {
  const lines = Object.entries(ifaces).map(
    ([name, c]) => `${name.padStart(6)}: ${c.rxBytes} ${c.rxPackets}    0    0    0     0          0         0 ${c.txBytes} ${c.txPackets}    0    0    0     0       0          0`,
  );
  return `${HEADER}\n${lines.join('\n')}\n`;
}
const ETH0 = { rxBytes: 395_979_798, rxPackets: 11_703, txBytes: 724_628, txPackets: 7_129 };

let tree: Tree | undefined;
afterEach(() => tree?.remove());

async function start(initial: string): Promise<{ clock: FakeClock; next: (text: string, ms?: number) => Promise<Record<string, number>> }> {
  tree = scenarioTree('x86-vm');
  tree.write('proc/net/dev', initial);
  const clock = new FakeClock();
  const net = await detectOrFail(createNetworkCollector(clock.now), tree.ctx);
  expect(await sample(net)).toEqual({});
  return {
    clock,
    async next(text, ms = 1000) {
      tree!.write('proc/net/dev', text);
      clock.advance(ms);
      return sample(net);
    },
  };
}

describe('network collector', () => {
  it('rates every interface but lo from the real file, over the real elapsed time', async () => {
    const { next } = await start(REAL);
    const out = await next(REAL.replace(/eth0: 395979798\s+11703(.*?)724628\s+7129/, 'eth0: 397479798   12903$1727628    7169'), 2000);
    expect(out).toEqual({
      'net.eth0.rx_bps': 1_500_000 / 2,
      'net.eth0.tx_bps': 3000 / 2,
      // ifb0/ifb1 are real interfaces that carried nothing: 0 is a reading, not a gap.
      'net.ifb0.rx_bps': 0,
      'net.ifb0.tx_bps': 0,
      'net.ifb1.rx_bps': 0,
      'net.ifb1.tx_bps': 0,
    });
  });

  it('leaves out veth* container links but keeps the docker0 bridge', async () => {
    const zero = { rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0 };
    const { next } = await start(netDev({ docker0: zero, veth1a2b3c4: zero, eth0: ETH0 }));
    const out = await next(netDev({ docker0: { ...zero, rxBytes: 500, rxPackets: 5 }, veth1a2b3c4: { ...zero, txBytes: 500, txPackets: 5 }, eth0: ETH0 }));
    expect(Object.keys(out).sort()).toEqual(['net.docker0.rx_bps', 'net.docker0.tx_bps', 'net.eth0.rx_bps', 'net.eth0.tx_bps']);
    expect(out['net.docker0.rx_bps']).toBe(500);
  });

  it('unwraps a 32-bit byte counter when packets kept counting', async () => {
    const { next } = await start(netDev({ eth0: { ...ETH0, rxBytes: 4_294_967_000, rxPackets: 100 } }));
    const out = await next(netDev({ eth0: { ...ETH0, rxBytes: 704, rxPackets: 105, txBytes: ETH0.txBytes + 250 } }), 500);
    // 4294967000 → 2^32 → 704 is 296 + 704 = 1000 bytes in 0.5 s.
    expect(out).toEqual({ 'net.eth0.rx_bps': 2000, 'net.eth0.tx_bps': 500 });
  });

  it('skips a reset interface (bytes and packets both went back) for one tick only', async () => {
    const { next } = await start(netDev({ wlan0: { rxBytes: 5_000_000, rxPackets: 4000, txBytes: 800_000, txPackets: 3000 } }));
    const reset = { rxBytes: 1200, rxPackets: 10, txBytes: 600, txPackets: 6 };
    expect(await next(netDev({ wlan0: reset }))).toEqual({});
    expect(await next(netDev({ wlan0: { rxBytes: 3200, rxPackets: 20, txBytes: 1600, txPackets: 12 } }))).toEqual({
      'net.wlan0.rx_bps': 2000,
      'net.wlan0.tx_bps': 1000,
    });
  });

  it('does not unwrap a 64-bit counter or a drop while no packets moved', async () => {
    const { next } = await start(netDev({ eth0: { rxBytes: 6_000_000_000, rxPackets: 100, txBytes: 4_000_000_000, txPackets: 50 } }));
    const out = await next(netDev({ eth0: { rxBytes: 1_000, rxPackets: 110, txBytes: 1_000, txPackets: 50 } }));
    expect(out).toEqual({});
  });

  it('gives an interface that disappeared and came back no rate on its return', async () => {
    const { next } = await start(netDev({ eth0: ETH0, usb0: { rxBytes: 100, rxPackets: 1, txBytes: 100, txPackets: 1 } }));
    expect(pick(await next(netDev({ eth0: ETH0 })), 'net.usb0')).toEqual({});
    expect(pick(await next(netDev({ eth0: ETH0, usb0: { rxBytes: 90_000, rxPackets: 70, txBytes: 100, txPackets: 1 } })), 'net.usb0')).toEqual({});
    expect(pick(await next(netDev({ eth0: ETH0, usb0: { rxBytes: 91_000, rxPackets: 71, txBytes: 100, txPackets: 1 } })), 'net.usb0')).toEqual({
      'net.usb0.rx_bps': 1000,
      'net.usb0.tx_bps': 0,
    });
  });

  it('reads the old layout where a big counter touches the colon', async () => {
    const old = (rx: number) => `${HEADER}\n  eth0:${rx}  200000    0    0    0     0          0         0 1000 10    0    0    0     0       0          0\n`;
    const { next } = await start(old(12_345_678));
    expect(await next(old(12_445_678))).toEqual({ 'net.eth0.rx_bps': 100_000, 'net.eth0.tx_bps': 0 });
  });

  it('survives garbage and a vanished file, and restarts its baseline', async () => {
    tree = scenarioTree('x86-vm');
    const clock = new FakeClock();
    const net = await detectOrFail(createNetworkCollector(clock.now), tree.ctx);
    await sample(net);
    tree.write('proc/net/dev', 'eth0: lots of bytes\n\u0000\n');
    clock.advance(1000);
    expect(await sample(net)).toEqual({});
    rmSync(join(tree.root, 'proc/net/dev'));
    clock.advance(1000);
    expect(await sample(net)).toEqual({});
    tree.write('proc/net/dev', netDev({ eth0: ETH0 }));
    clock.advance(1000);
    expect(await sample(net)).toEqual({});
    tree.write('proc/net/dev', netDev({ eth0: { ...ETH0, rxBytes: ETH0.rxBytes + 1000, rxPackets: ETH0.rxPackets + 1 } }));
    clock.advance(1000);
    expect(await sample(net)).toEqual({ 'net.eth0.rx_bps': 1000, 'net.eth0.tx_bps': 0 });
  });

  it('returns null without /proc/net/dev', async () => {
    tree = scenarioTree('jetson-nano');
    expect(await createNetworkCollector().detect(tree.ctx)).toBeNull();
  });
});
