import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The built CLI beside the bench bundle (dist/). */
export const BENCH_CLI = fileURLToPath(new URL('./edgewatch.mjs', import.meta.url));

export function freePortNumber(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function waitForHealth(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

export interface BenchHub {
  proc: ChildProcess;
  port: number;
  /** http://127.0.0.1:<port> */
  base: string;
}

/**
 * A real hub process on a free loopback port, without auth (benchmarks measure the data path),
 * logging warnings only; resolves once /healthz answers. EDGEWATCH_BENCH_HUB_NODE_ARGS passes
 * node flags (e.g. --cpu-prof) to it.
 */
export async function startBenchHub(dataDir: string): Promise<BenchHub> {
  const port = await freePortNumber();
  const nodeArgs = process.env.EDGEWATCH_BENCH_HUB_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawn(process.execPath, [...nodeArgs, BENCH_CLI, 'hub', '--no-auth', '--port', String(port), '--host', '127.0.0.1', '--data', dataDir], {
    stdio: 'ignore',
    env: { ...process.env, EDGEWATCH_LOG_LEVEL: 'warn' },
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(`${base}/healthz`);
  } catch (err) {
    proc.kill();
    throw err;
  }
  return { proc, port, base };
}
