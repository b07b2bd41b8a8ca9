// /proc/loadavg: `0.91 0.51 0.21 1/82 5741`.

export interface LoadAvg {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
  /** Runnable scheduling entities now, and all of them, when the line has them. */
  readonly running?: number;
  readonly total?: number;
  readonly lastPid?: number;
}

const LINE = /^\s*(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)(?:\s+(\d+)\/(\d+)(?:\s+(\d+))?)?\s*$/;

export function parseLoadavg(text: string): LoadAvg | undefined {
  const m = LINE.exec(text);
  if (!m) return undefined;
  return {
    load1: Number(m[1]),
    load5: Number(m[2]),
    load15: Number(m[3]),
    ...(m[4] !== undefined && { running: Number(m[4]), total: Number(m[5]) }),
    ...(m[6] !== undefined && { lastPid: Number(m[6]) }),
  };
}
