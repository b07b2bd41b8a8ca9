// /proc/net/dev: two header lines, then `iface: 8 receive counters 8 transmit counters`.
// Old kernels print a large first counter straight after the colon (`eth0:1234567`), so the
// line is split at the colon, which no interface name may contain.

export interface NetDevCounters {
  readonly name: string;
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly rxErrors: number;
  readonly rxDropped: number;
  readonly rxFifo: number;
  readonly rxFrame: number;
  readonly rxCompressed: number;
  readonly rxMulticast: number;
  readonly txBytes: number;
  readonly txPackets: number;
  readonly txErrors: number;
  readonly txDropped: number;
  readonly txFifo: number;
  readonly txCollisions: number;
  readonly txCarrier: number;
  readonly txCompressed: number;
}

export function parseNetDev(text: string): NetDevCounters[] {
  const ifaces: NetDevCounters[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const v = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === '' || v.length < 16 || v.some((n) => !Number.isFinite(n))) continue;
    ifaces.push({
      name,
      rxBytes: v[0]!,
      rxPackets: v[1]!,
      rxErrors: v[2]!,
      rxDropped: v[3]!,
      rxFifo: v[4]!,
      rxFrame: v[5]!,
      rxCompressed: v[6]!,
      rxMulticast: v[7]!,
      txBytes: v[8]!,
      txPackets: v[9]!,
      txErrors: v[10]!,
      txDropped: v[11]!,
      txFifo: v[12]!,
      txCollisions: v[13]!,
      txCarrier: v[14]!,
      txCompressed: v[15]!,
    });
  }
  return ifaces;
}
