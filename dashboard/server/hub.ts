// The hub: one HTTP server carrying the REST API, the static web UI, the agent socket
// (/ws/agent) and the browser live socket (/ws/live), over one SQLite store.
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../shared/log.js';
import { MAX_AGENT_FRAME_BYTES } from '../../shared/protocol.js';
import { Store, type StoreOptions } from '../store/store.js';
import { attachAgentSocket } from './agent-socket.js';
import { apiRouter, BadRequest } from './api.js';
import { experimentsRouter } from './experiments-api.js';
import { Fleet } from './fleet.js';
import { IngestQueue } from './ingest-queue.js';
import { LiveFeed } from './live-feed.js';
import { IpLimiter, resolveLimits, type HubLimits } from './rate-limit.js';

export const AGENT_PATH = '/ws/agent';
export const LIVE_PATH = '/ws/live';
const HEARTBEAT_MS = 30_000;

export interface HubOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  host: string;
  dataDir: string;
  log: Logger;
  /** Directory holding the built web UI (index.html, app.js). Found next to the bundle by default. */
  webRoot?: string;
  version?: string;
  /** Rate limits per connection and per IP; rate-limit.ts has the defaults. */
  limits?: Partial<HubLimits>;
  /** While SQLite cannot write, probe it this often (ms); default 3000. */
  storeProbeMs?: number;
  /** Store options (test hooks such as maxPageCount). */
  store?: StoreOptions;
}

export interface Hub {
  readonly port: number;
  /** http://host:port of the dashboard. */
  readonly url: string;
  /** ws://host:port/ws/agent: where an agent on this machine connects. */
  readonly agentUrl: string;
  readonly store: Store;
  readonly ingest: IngestQueue;
  readonly fleet: Fleet;
  close(): Promise<void>;
}

export async function startHub(opts: HubOptions): Promise<Hub> {
  const { log } = opts;
  const store = Store.open(opts.dataDir, opts.store);
  log.info({ db: store.path }, 'database open');
  const fleet = new Fleet(store);
  const ingest = new IngestQueue(store, log.child({ part: 'ingest' }), { probeEveryMs: opts.storeProbeMs });
  const limits = resolveLimits(opts.limits);
  const live = new LiveFeed(fleet, log.child({ part: 'live' }), limits.live);
  // Browsers show a red banner while the hub cannot save data.
  ingest.onStatusChange((s) => live.publishHubStatus(s));
  const startedAt = Date.now();

  const app = express();
  app.disable('x-powered-by');
  // Security headers. The CSP is the one in index.html's meta tag plus frame-ancestors (which
  // only works as a header); connect-src 'self' covers ws:/wss: to this host in Chromium and
  // Firefox (CSP3). No HSTS and no upgrade-insecure-requests: the hub is served over plain HTTP
  // on a LAN (put TLS in front and enable both there).
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'none'"],
          frameAncestors: ["'none'"],
        },
      },
      strictTransportSecurity: false,
      referrerPolicy: { policy: 'no-referrer' },
      xFrameOptions: { action: 'deny' },
    }),
  );
  // Per-IP request limit (also applied to WebSocket upgrades below).
  const httpLimiter = new IpLimiter(limits.http);
  const upgradeLimiter = new IpLimiter(limits.upgrade);
  app.use(httpLimiter.middleware());
  app.get('/healthz', (_req, res) => {
    const dbOk = safePing(store);
    const writes = ingest.writeStatus;
    const healthy = dbOk && writes.writable;
    res.status(healthy ? 200 : 503).json({
      ok: healthy,
      db: dbOk ? 'ok' : 'unreachable',
      writes: writes.writable ? 'ok' : 'failing',
      // Why the hub cannot save data (disk full, read-only…): agents keep their data meanwhile.
      ...(writes.writable ? {} : { reason: writes.reason, code: writes.code, failingSince: writes.since }),
      futureSamplesRejected: ingest.futureSamplesRejected,
      agentsOnline: fleet.onlineCount,
      liveViewers: live.viewerCount,
      committedBatches: ingest.committedBatches,
      committedSamples: ingest.committedSamples,
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
      version: opts.version ?? null,
    });
  });
  app.use('/api/v1', apiRouter(store, fleet));
  app.use('/api/v1', experimentsRouter(store));
  app.use('/api', (req, res) => {
    res.status(404).json({ error: `no API route ${req.method} ${req.originalUrl}; see /api/v1/catalog and /api/v1/devices` });
  });
  const webRoot = opts.webRoot ?? findWebRoot();
  // No max-age: browsers revalidate (ETag), so a new build never runs with a stale app.js.
  if (webRoot) app.use(express.static(webRoot, { index: 'index.html' }));
  else log.warn('web UI not built (no dist/web): run `npm run build`; the API still works');
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof BadRequest) {
      res.status(400).json({ error: err.message });
      return;
    }
    log.error({ err, url: req.originalUrl }, 'request failed');
    res.status(500).json({ error: 'internal error; the hub log has details' });
  });

  const server = createServer(app);
  const agentWss = new WebSocketServer({ noServer: true, maxPayload: MAX_AGENT_FRAME_BYTES });
  const liveWss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const alive = new WeakMap<WebSocket, boolean>();

  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://hub').pathname;
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const wss = path === AGENT_PATH ? agentWss : path === LIVE_PATH ? liveWss : null;
    socket.on('error', () => {}); // a peer resetting mid-handshake is not the hub's problem
    const wait = upgradeLimiter.take(req.socket.remoteAddress ?? 'unknown');
    if (wait > 0) {
      socket.end(`HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${wait}\r\nConnection: close\r\n\r\n`);
      return;
    }
    if (!wss) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      if (wss === agentWss) attachAgentSocket(ws, remote, { store, ingest, fleet, live, log: log.child({ part: 'agent' }), limit: limits.agent });
      else live.attach(ws);
    });
  });

  // Flaky Wi-Fi leaves half-open TCP connections that never close by themselves: ping,
  // and drop a peer that did not answer the previous ping.
  const heartbeat = setInterval(() => {
    for (const wss of [agentWss, liveWss]) {
      for (const ws of wss.clients) {
        if (alive.get(ws) === false) {
          ws.terminate();
          continue;
        }
        alive.set(ws, false);
        ws.ping();
      }
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  await listen(server, opts.port, opts.host);
  const port = (server.address() as AddressInfo).port;
  // A wildcard address is not one to browse to: name this machine's loopback instead.
  const local = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  const authority = `${local.includes(':') ? `[${local}]` : local}:${port}`;
  const url = `http://${authority}`;
  const agentUrl = `ws://${authority}${AGENT_PATH}`;
  log.info({ url, host: opts.host, port, agentUrl }, 'hub listening');

  let closed = false;
  return {
    port,
    url,
    agentUrl,
    store,
    ingest,
    fleet,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      ingest.close();
      live.closeAll();
      for (const ws of agentWss.clients) ws.close(1001, 'hub shutting down');
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      // Give peers a moment to answer the close frame, then cut whoever is left.
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const wss of [agentWss, liveWss]) for (const ws of wss.clients) ws.terminate();
      await stopped;
      store.close();
      log.info('hub stopped');
    },
  };
}

function safePing(store: Store): boolean {
  try {
    return store.ping();
  } catch {
    return false;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`port ${port} on ${host} is already in use: stop the other process or pass --port`)
          : err,
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * The built UI is dist/web: beside the entry bundle, one level up from a code-split chunk
 * (dist/chunks/), or ../../dist/web from these sources (tests).
 */
function findWebRoot(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, 'web'), join(here, '../web'), join(here, '../../dist/web')].find((dir) => existsSync(join(dir, 'index.html')));
}
