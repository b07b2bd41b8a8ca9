// Bytes/s per network interface from /proc/net/dev (one read per tick; interfaces that come
// and go are picked up or dropped by that same read, so no re-scan is needed).
//
// Left out: `lo`, which is not network traffic, and `veth*`, the host ends of container
// links: Docker, Podman and most CNIs create one per container under a random name, so they
// would churn series on the hub, and their traffic already shows on the bridge (docker0,
// br-<id>, cni0), which is kept: one stable series per container network.
import { join } from 'node:path';
import { metricSegment } from '../../shared/catalog.js';
import type { Logger } from '../../shared/log.js';
import { parseNetDev } from '../parsers/proc/net-dev.js';
import type { Collector, CollectorFactory, MetricValues } from './collector.js';
import { counterDelta, monotonicMs, perSecond, TimedCounterFile, type MonotonicClock } from './counters.js';
import { readText } from './sysfs.js';

interface Direction {
  readonly metric: string;
  bytes: number;
  packets: number;
}

interface IfaceState {
  readonly rx: Direction;
  readonly tx: Direction;
  seen: number;
}

export function isReportedInterface(name: string): boolean {
  return name !== 'lo' && !name.startsWith('veth');
}

export function createNetworkCollector(clock: MonotonicClock = monotonicMs): CollectorFactory {
  return {
    name: 'network',
    async detect(ctx) {
      const path = join(ctx.procRoot, 'net/dev');
      const text = readText(path);
      if (text === undefined) return null;
      ctx.log.debug({ interfaces: parseNetDev(text).map((i) => i.name).filter(isReportedInterface) }, 'network interfaces');
      return new NetworkCollector(path, clock, ctx.log);
    },
  };
}

export const networkCollector = createNetworkCollector();

class NetworkCollector implements Collector {
  readonly name = 'network';
  private readonly ifaces = new Map<string, IfaceState>();
  private readonly file: TimedCounterFile;
  private tick = 0;

  constructor(
    path: string,
    clock: MonotonicClock,
    private readonly log: Logger,
  ) {
    this.file = new TimedCounterFile(path, clock);
  }

  sample(_now: number, out: MetricValues): void {
    const read = this.file.read();
    if (read === undefined) {
      this.log.debug({ path: this.file.path }, 'cannot read /proc/net/dev; network left out this tick');
      return;
    }
    const { text, elapsedMs } = read;
    const tick = ++this.tick;
    for (const c of parseNetDev(text)) {
      if (!isReportedInterface(c.name)) continue;
      const state = this.ifaces.get(c.name);
      if (!state) {
        const seg = metricSegment(c.name);
        this.ifaces.set(c.name, {
          rx: { metric: `net.${seg}.rx_bps`, bytes: c.rxBytes, packets: c.rxPackets },
          tx: { metric: `net.${seg}.tx_bps`, bytes: c.txBytes, packets: c.txPackets },
          seen: tick,
        });
        continue;
      }
      state.seen = tick;
      this.step(c.name, state.rx, c.rxBytes, c.rxPackets, elapsedMs, out);
      this.step(c.name, state.tx, c.txBytes, c.txPackets, elapsedMs, out);
    }
    // An interface that went away is forgotten; if it returns it starts without a baseline.
    for (const [name, state] of this.ifaces) if (state.seen !== tick) this.ifaces.delete(name);
  }

  /**
   * One direction of one interface. Byte counters of drivers that keep 32-bit stats wrap at
   * 4 GiB on 32-bit kernels (Raspberry Pi OS armhf). A wrap moves bytes back while packets go
   * on rising; a re-created or reset interface moves both back, and is skipped this tick.
   */
  private step(iface: string, d: Direction, bytes: number, packets: number, elapsedMs: number, out: MetricValues): void {
    if (elapsedMs > 0) {
      const packetsUp = packets > d.packets;
      const delta = counterDelta(d.bytes, bytes, packetsUp);
      if (delta !== undefined) {
        out[d.metric] = perSecond(delta, elapsedMs);
        if (bytes < d.bytes) this.log.debug({ iface, prev: d.bytes, cur: bytes, delta }, '32-bit byte counter wrapped; unwrapped');
      } else {
        this.log.debug({ iface, prevBytes: d.bytes, bytes, prevPackets: d.packets, packets }, 'interface counters went backwards (reset or re-created); skipped this tick');
      }
    }
    d.bytes = bytes;
    d.packets = packets;
  }
}
