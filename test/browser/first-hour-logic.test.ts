// The pure logic behind first-hour-layout.test.ts, without a browser: which panels a device is
// told it lacks, which interfaces count as virtual, and the fleet card's load, disk and network.
import { describe, expect, it } from 'vitest';
import type { DeviceSummary } from '../../shared/live.js';
import { absentPanels, isVirtualInterface, planPage } from '../../dashboard/web/src/chart-plan.js';
import { deviceFacts } from '../../dashboard/web/src/device-facts.js';

const VM = [
  'cpu.util', 'load.1', 'mem.used', 'mem.total', 'fs.rootfs.used', 'fs.rootfs.size', 'fs.rootfs.util',
  'net.ens3.rx_bps', 'net.ens3.tx_bps', 'net.ifb0.rx_bps', 'net.ifb0.tx_bps', 'net.ifb1.rx_bps', 'net.ifb1.tx_bps',
];

function device(m: Record<string, number>, over: Partial<DeviceSummary> = {}): DeviceSummary {
  return {
    id: 'd',
    name: 'd',
    hostname: null,
    online: true,
    lastSeen: 1,
    firstSeen: 0,
    intervalMs: 1000,
    agentVersion: null,
    capabilities: [],
    inventory: {},
    latest: { t: 1, m },
    clockOffsetMs: 0,
    droppedSamples: 0,
    ...over,
  };
}

describe('absent panels', () => {
  it('names GPU, temperatures, fans and power on a VM, in page order', () => {
    expect(absentPanels(VM).map((a) => [a.kind, a.text])).toEqual([
      ['gpu', 'no GPU found'],
      ['temp', 'no temperature sensors found'],
      ['fan', 'no fan sensors found'],
      ['power', 'no power sensors found'],
    ]);
    expect(planPage(VM).absent.map((a) => a.kind)).toEqual(['gpu', 'temp', 'fan', 'power']);
  });

  it('says nothing before the device has reported any metric', () => {
    expect(absentPanels([])).toEqual([]);
    expect(absentPanels(['not.in.catalog'])).toEqual([]);
  });

  it('counts a GPU’s own temperature, fan and power, and any power source', () => {
    expect(absentPanels(['cpu.util', 'gpu.0.util', 'gpu.0.temp', 'gpu.0.fan', 'gpu.0.power'])).toEqual([]);
    expect(absentPanels(['cpu.util', 'temp.cpu', 'fan.cpu_fan', 'power.rapl.package_0']).map((a) => a.kind)).toEqual(['gpu']);
    expect(absentPanels(['cpu.util', 'battery.bat0.power']).map((a) => a.kind)).toEqual(['gpu', 'temp', 'fan']);
    // A battery's charge is not a power reading.
    expect(absentPanels(['cpu.util', 'battery.bat0.capacity']).map((a) => a.kind)).toContain('power');
  });

  it('says "no GPU readings", not "not found", when a GPU collector is on', () => {
    const [gpu] = absentPanels(['cpu.util'], ['cpu', 'nvidia-gpu']);
    expect(gpu).toMatchObject({ kind: 'gpu', text: 'no GPU readings' });
    expect(gpu!.detail).toContain('nvidia-gpu');
  });
});

describe('virtual interfaces', () => {
  it('are lo, veth*, ifb*, dummy* and the kernel’s tunnel fallback devices; bridges and VPNs are real', () => {
    for (const v of ['lo', 'veth12ab', 'ifb0', 'ifb1', 'dummy0', 'tunl0', 'sit0', 'ip6tnl0', 'gre0', 'gretap0', 'erspan0', 'ip_vti0', 'ip6_vti0']) {
      expect(isVirtualInterface(v), v).toBe(true);
    }
    for (const r of ['eth0', 'ens3', 'enp3s0', 'wlan0', 'docker0', 'br_1a2b', 'cni0', 'wg0', 'tun0', 'usb0', 'can0', 'l4tbr0']) {
      expect(isVirtualInterface(r), r).toBe(false);
    }
  });

  it('stay off the network chart unless asked, and the plan lists them', () => {
    const hidden = planPage(VM);
    expect(hidden.charts.find((c) => c.id === 'net')!.series.map((s) => s.metric)).toEqual(['net.ens3.rx_bps', 'net.ens3.tx_bps']);
    expect(hidden.virtualInterfaces).toEqual(['ifb0', 'ifb1']);
    const shown = planPage(VM, new Map(), new Map(), { showVirtual: true });
    expect(shown.charts.find((c) => c.id === 'net')!.series.map((s) => s.metric)).toEqual([
      'net.ens3.rx_bps', 'net.ens3.tx_bps', 'net.ifb0.rx_bps', 'net.ifb0.tx_bps', 'net.ifb1.rx_bps', 'net.ifb1.tx_bps',
    ]);
    expect(shown.virtualInterfaces).toEqual(['ifb0', 'ifb1']);
  });

  it('are charted when they are all there is (nothing to toggle)', () => {
    const plan = planPage(['net.ifb0.rx_bps', 'net.ifb0.tx_bps']);
    expect(plan.charts.find((c) => c.id === 'net')!.series.map((s) => s.metric)).toEqual(['net.ifb0.rx_bps', 'net.ifb0.tx_bps']);
    expect(plan.virtualInterfaces).toEqual([]);
  });
});

describe('fleet card facts', () => {
  it('reads load, the root filesystem and the network summed over real interfaces', () => {
    const f = deviceFacts(
      device({
        'load.1': 0.42,
        'fs.rootfs.used': 30,
        'fs.rootfs.size': 120,
        'net.ens3.rx_bps': 1000,
        'net.ens3.tx_bps': 10,
        'net.docker0.rx_bps': 5,
        'net.docker0.tx_bps': 1,
        'net.ifb0.rx_bps': 999_999,
        'net.ifb0.tx_bps': 999_999,
      }),
    );
    expect(f.load1).toBe(0.42);
    // No util reported: used / size.
    expect(f.rootfs).toEqual({ used: 30, size: 120, util: 25 });
    expect(f.net).toEqual({ rx: 1005, tx: 11 });
    expect(f.hottest).toBeNull();
    expect(f.reported).toBe(true);
  });

  it('leaves out what the device does not report', () => {
    const f = deviceFacts(device({ 'cpu.util': 3 }));
    expect(f.load1).toBeUndefined();
    expect(f.rootfs).toBeNull();
    expect(f.net).toBeNull();
    expect(deviceFacts(device({}, { latest: null })).reported).toBe(false);
  });

  it('uses virtual interfaces only when they are all there is', () => {
    expect(deviceFacts(device({ 'net.ifb0.rx_bps': 7, 'net.ifb0.tx_bps': 3 })).net).toEqual({ rx: 7, tx: 3 });
  });
});
