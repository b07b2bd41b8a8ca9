// The Pareto front of a speed/quality trade-off: each experiment a point with a cost on x
// (latency, energy: lower is better) and a quality score on y (better as the score says). The
// hub's HTML report and the compare page draw the same front, so both take it from here.

/**
 * The non-dominated points, by x ascending: a point is dropped when another has an x no higher
 * and a score no worse, and is strictly better on one of them. Equal points all stay; points
 * with a non-finite coordinate are never on the front.
 */
export function paretoFront<P extends { x: number; y: number }>(points: readonly P[], better: 'higher' | 'lower'): P[] {
  const gain = (p: P): number => (better === 'higher' ? p.y : -p.y);
  const ok = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const front = ok.filter((p) => !ok.some((q) => q !== p && q.x <= p.x && gain(q) >= gain(p) && (q.x < p.x || gain(q) > gain(p))));
  return front.sort((a, b) => a.x - b.x || gain(b) - gain(a));
}
