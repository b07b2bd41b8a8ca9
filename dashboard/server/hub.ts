// The hub: one HTTP server carrying the REST API, the static web UI, the agent socket
// (/ws/agent) and the browser live socket (/ws/live), over one SQLite store.
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { dirname, join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { RemoteWriteStatus } from '../../shared/live.js';
import type { Logger } from '../../shared/log.js';
import { MAX_AGENT_FRAME_BYTES } from '../../shared/protocol.js';
import { Store, type StoreOptions } from '../store/store.js';
import { attachAgentSocket, sendAgentError } from './agent-socket.js';
import { DEFAULT_EXPERIMENT_TIMEOUT_MS, startExperimentTimeout } from './experiment-timeout.js';
import { authenticate, authRouter, Credentials, requireAuth, sameOrigin, type Principal } from './auth/index.js';
import { bearerToken } from './auth/tokens.js';
import { alertsRouter, startAlerts, type AlertOptions } from './alerts/index.js';
import { apiRouter, BadRequest } from './api.js';
import { experimentsRouter } from './experiments-api.js';
import { exportRouter } from './export-api.js';
import { Fleet } from './fleet.js';
import { IngestQueue } from './ingest-queue.js';
import { LiveFeed } from './live-feed.js';
import { metricsRoute } from './prometheus.js';
import { resolveDestinations, startRemoteWrite, type RemoteWriteConfig, type RemoteWriteQueueLimits } from './remote-write/index.js';
import { IpLimiter, resolveLimits, type BucketLimit, type HubLimits } from './rate-limit.js';
import { startMaintenance } from './storage-maintenance.js';
import { startSnapshots } from './experiment-snapshots.js';

export const AGENT_PATH = '/ws/agent';
export const LIVE_PATH = '/ws/live';
const HEARTBEAT_MS = 30_000;
/** WebSocket close code for a peer whose credentials do not (or no longer) allow it in. */
export const CLOSE_UNAUTHORIZED = 4401;
/** Login attempts per IP: a burst of 20, then one a second. */
const DEFAULT_LOGIN_LIMIT: BucketLimit = { ratePerS: 1, burst: 20 };

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
  /** Store options: retention per tier and size cap, and test hooks such as maxPageCount. */
  store?: StoreOptions;
  /** How often stored history is sealed, rolled up and pruned (ms); default 5000. */
  maintenanceMs?: number;
  /** How long after a change an ended experiment's snapshot is computed again (ms; debounces backlogs); default 2000. */
  snapshotDelayMs?: number;
  /**
   * Serve HTTPS (and wss:// for agents and browsers) with this PEM certificate (chain) and
   * private key instead of plain HTTP. Without it, put a TLS proxy in front (docs/reverse-proxy.md).
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Require credentials: a device token (`ewd_…`) on /ws/agent, a session cookie or an API
   * token (`ewa_…`) on /api/v1 and /ws/live. Default false for in-process callers (tests,
   * embedding); the CLI turns it on unless --no-auth.
   */
  auth?: boolean;
  /** Mark the session cookie Secure; default: when the hub serves TLS itself (HubOptions.tls). */
  secureCookies?: boolean;
  /** How often connected sockets' credentials are re-checked (revoked token → disconnected); default 2000 ms. */
  authCheckMs?: number;
  /** Login attempts per IP (default burst 20, then 1/s). */
  loginLimit?: BucketLimit;
  /** Alert evaluation and webhook retry timing (tests shorten them). */
  alerts?: AlertOptions;
  /**
   * Prometheus remote-write destinations (remote-write/config.ts): every committed sample is
   * queued durably and sent to each. Checked at start; a bad one fails startHub naming it.
   */
  remoteWrite?: RemoteWriteConfig[];
  /** The remote-write queue's size and age cap (remote-write/index.ts has the defaults). */
  remoteWriteQueue?: Partial<RemoteWriteQueueLimits>;
  /**
   * A running experiment whose device sends nothing for this long, or whose agent no longer
   * has it open for this long, is closed as "ended by timeout" (experiment-timeout.ts); default 1 h.
   */
  experimentTimeoutMs?: number;
}

export interface Hub {
  readonly port: number;
  /** http://host:port of the dashboard (https:// with HubOptions.tls). */
  readonly url: string;
  /** ws://host:port/ws/agent (wss:// with HubOptions.tls): where an agent on this machine connects. */
  readonly agentUrl: string;
  readonly store: Store;
  readonly ingest: IngestQueue;
  readonly fleet: Fleet;
  /** Whether credentials are required. */
  readonly auth: boolean;
  /**
   * Set on the first start with auth on: the `admin` user just created and its random password.
   * Print it once to the operator; it is never logged and cannot be read back later.
   */
  readonly initialLogin?: { user: string; password: string };
  /** Per remote-write destination: sent, pending, failed… (empty without destinations). */
  readonly remoteWrite: { status(): RemoteWriteStatus[] };
  close(): Promise<void>;
}

export async function startHub(opts: HubOptions): Promise<Hub> {
  const { log } = opts;
  /** Served over TLS: HSTS on, and cookies may be marked Secure. */
  const secure = Boolean(opts.tls);
  // A bad certificate or key fails here, before anything is opened, with a message saying which.
  if (opts.tls) checkTls(opts.tls);
  const destinations = resolveDestinations(opts.remoteWrite ?? []);
  // With a destination, each batch is queued for it in the batch's own commit.
  const store = Store.open(opts.dataDir, destinations.length > 0 ? { ...opts.store, remoteWrite: true } : opts.store);
  log.info({ db: store.path }, 'database open');
  const fleet = new Fleet(store);
  // Before maintenance: the start-up snapshot pass should see raw samples that retention is about to drop.
  const snapshots = startSnapshots(store, log.child({ part: 'snapshots' }), { delayMs: opts.snapshotDelayMs });
  const maintenance = startMaintenance(store, log.child({ part: 'storage' }), opts.maintenanceMs ?? 5000);
  const experimentTimeout = startExperimentTimeout(store, log.child({ part: 'experiments' }), { timeoutMs: opts.experimentTimeoutMs ?? DEFAULT_EXPERIMENT_TIMEOUT_MS });
  const ingest = new IngestQueue(store, log.child({ part: 'ingest' }), { probeEveryMs: opts.storeProbeMs });
  const limits = resolveLimits(opts.limits);
  const live = new LiveFeed(fleet, log.child({ part: 'live' }), limits.live);
  const alerts = startAlerts(store.alerts, fleet, log.child({ part: 'alerts' }), { ...opts.alerts, version: opts.version });
  // Browsers show a red banner while the hub cannot save data.
  ingest.onStatusChange((s) => live.publishHubStatus(s));
  const startedAt = Date.now();
  const auth = opts.auth === true;
  const creds = auth ? new Credentials(store) : null;
  const initialLogin = creds ? ((await creds.ensureAdmin()) ?? undefined) : undefined;
  if (initialLogin) log.info({ user: initialLogin.user }, 'created the first dashboard user (password shown once by the CLI)');
  if (!auth) log.warn('authentication is off: anyone who can reach this hub can read the API and stream as any device');

  const app = express();
  app.disable('x-powered-by');
  // Security headers. The CSP is the one in index.html's meta tag plus frame-ancestors (which
  // only works as a header); connect-src 'self' covers ws:/wss: to this host in Chromium and
  // Firefox (CSP3). HSTS only when the hub serves TLS itself (HubOptions.tls); over plain HTTP
  // on a LAN there is none, nor upgrade-insecure-requests (a TLS proxy in front sets its own).
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
      strictTransportSecurity: secure ? { maxAge: 31_536_000, includeSubDomains: false } : false,
      referrerPolicy: { policy: 'no-referrer' },
      xFrameOptions: { action: 'deny' },
    }),
  );
  // Per-IP request limit (also applied to WebSocket upgrades below).
  const httpLimiter = new IpLimiter(limits.http);
  const upgradeLimiter = new IpLimiter(limits.upgrade);
  app.use(httpLimiter.middleware());
  // The sender starts once the hub listens (below); until then there is nothing to report.
  let remoteWriteStatus = (): RemoteWriteStatus[] => [];
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
      // Remote-write queues are not part of `ok`: the hub stores data whether a receiver answers or not.
      remoteWrite: remoteWriteStatus(),
    });
  });
  // Prometheus exposition (docs/scaling.md); checks credentials itself so its 401 can say how to scrape.
  app.get('/metrics', metricsRoute({ store, fleet, ingest, live, creds, startedAtMs: startedAt, version: opts.version, remoteWrite: () => remoteWriteStatus() }));
  if (creds) {
    // Login, logout and session are open; everything else under /api/v1 needs a session or an API token.
    app.use('/api/v1', authRouter(creds, { secureCookies: opts.secureCookies ?? secure, loginLimiter: new IpLimiter(opts.loginLimit ?? DEFAULT_LOGIN_LIMIT) }));
    app.use('/api/v1', requireAuth(creds));
  } else {
    // Auth is off (--no-auth, loopback only): say so, so the UI shows no login form.
    app.get('/api/v1/session', (_req, res) => {
      res.json({ user: null, auth: false });
    });
  }
  app.use('/api/v1', apiRouter(store, fleet, () => remoteWriteStatus()));
  app.use('/api/v1', exportRouter(store, log.child({ part: 'export' })));
  app.use('/api/v1', experimentsRouter(store));
  app.use('/api/v1', alertsRouter(alerts));
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

  const server: Server | HttpsServer = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, app) : createServer(app);
  // A client that refuses our certificate (or speaks plain HTTP to the TLS port) ends its own
  // connection; say so at debug only.
  server.on('tlsClientError', (err: Error, socket: { remoteAddress?: string }) => log.debug({ err: err.message, remote: socket.remoteAddress }, 'TLS handshake failed'));
  const agentWss = new WebSocketServer({ noServer: true, maxPayload: MAX_AGENT_FRAME_BYTES });
  const liveWss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const alive = new WeakMap<WebSocket, boolean>();
  /** What let each socket in, re-checked every authCheckMs (a revoked token is disconnected). */
  const agentTokens = new WeakMap<WebSocket, string>();
  const viewers = new WeakMap<WebSocket, Principal>();

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
    let agentAuth: { tokenId: string; deviceId: string } | undefined;
    let viewer: Principal | undefined;
    if (creds && wss === agentWss) {
      const check = creds.checkDeviceToken(bearerToken(req.headers.authorization));
      if (!check.ok) {
        const why =
          check.reason === 'missing'
            ? 'agent token required: send Authorization: Bearer ewd_... (create one on the hub with `edgewatch token create <device-id>`, pass it with --token or EDGEWATCH_TOKEN)'
            : check.reason === 'revoked'
              ? 'agent token revoked: create a new one on the hub with `edgewatch token create <device-id>`'
              : 'agent token invalid: check --token / EDGEWATCH_TOKEN (create one on the hub with `edgewatch token create <device-id>`)';
        log.warn({ remote, reason: check.reason }, 'agent refused: bad token');
        refuse(socket, 401, 'Unauthorized', why);
        return;
      }
      agentAuth = { tokenId: check.id, deviceId: check.deviceId };
    } else if (creds) {
      const who = authenticate(creds, req.headers);
      if (!who || who === 'bad-token') {
        refuse(socket, 401, 'Unauthorized', who === 'bad-token' ? 'invalid or revoked API token' : 'login required: POST /api/v1/login');
        return;
      }
      // A cookie also rides along from another site on this host (another port): check Origin.
      if (who.kind === 'session' && !sameOrigin(req)) {
        refuse(socket, 403, 'Forbidden', 'cross-origin live socket refused: Origin does not match Host');
        return;
      }
      viewer = who;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      if (wss === agentWss) {
        if (agentAuth) agentTokens.set(ws, agentAuth.tokenId);
        attachAgentSocket(ws, remote, { store, ingest, fleet, live, log: log.child({ part: 'agent' }), limit: limits.agent, auth: agentAuth, onHello: experimentTimeout.noteHello });
      } else {
        if (viewer) viewers.set(ws, viewer);
        live.attach(ws);
      }
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

  // Revoked tokens and ended sessions: their sockets are closed within authCheckMs.
  const authCheck = creds
    ? setInterval(() => {
        try {
          for (const ws of agentWss.clients) {
            const tokenId = agentTokens.get(ws);
            if (tokenId === undefined || ws.readyState !== ws.OPEN || creds.deviceTokenActive(tokenId)) continue;
            log.warn({ tokenId }, 'agent token revoked: disconnecting its agent');
            sendAgentError(ws, 'unauthorized', `this agent's token (ewd_${tokenId}_…) was revoked on the hub: create a new one with \`edgewatch token create <device-id>\``);
            ws.close(CLOSE_UNAUTHORIZED, 'token revoked');
          }
          for (const ws of liveWss.clients) {
            const who = viewers.get(ws);
            if (who && ws.readyState === ws.OPEN && !creds.stillValid(who)) ws.close(CLOSE_UNAUTHORIZED, 'logged out or token revoked');
          }
        } catch (err) {
          log.warn({ err }, 'credential check failed; will try again');
        }
      }, opts.authCheckMs ?? 2000)
    : null;
  authCheck?.unref();

  await listen(server, opts.port, opts.host);
  const port = (server.address() as AddressInfo).port;
  // A wildcard address is not one to browse to: name this machine's loopback instead.
  const local = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  const authority = `${local.includes(':') ? `[${local}]` : local}:${port}`;
  const url = `${secure ? 'https' : 'http'}://${authority}`;
  const agentUrl = `${secure ? 'wss' : 'ws'}://${authority}${AGENT_PATH}`;
  log.info({ url, host: opts.host, port, agentUrl, tls: secure }, 'hub listening');
  // Once listening: a start that fails earlier leaves no sender running. Nothing is missed,
  // the queue is durable and no batch can arrive before now.
  const remoteWrite = startRemoteWrite({ store, destinations, log: log.child({ part: 'remote-write' }), version: opts.version, queue: opts.remoteWriteQueue });
  remoteWriteStatus = () => remoteWrite.status();

  let closed = false;
  return {
    port,
    url,
    agentUrl,
    store,
    ingest,
    fleet,
    auth,
    ...(initialLogin ? { initialLogin } : {}),
    remoteWrite: { status: () => remoteWrite.status() },
    async close() {
      if (closed) return;
      closed = true;
      // First: agents disconnecting during shutdown must not fire offline alerts.
      const alertsStopped = alerts.stop();
      // Stops sending at once (an in-flight request is aborted); what is queued stays queued.
      const remoteWriteStopped = remoteWrite.stop();
      clearInterval(heartbeat);
      if (authCheck) clearInterval(authCheck);
      maintenance.stop();
      experimentTimeout.stop();
      snapshots.stop();
      ingest.close();
      live.closeAll();
      for (const ws of agentWss.clients) ws.close(1001, 'hub shutting down');
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      // Give peers a moment to answer the close frame, then cut whoever is left.
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const wss of [agentWss, liveWss]) for (const ws of wss.clients) ws.terminate();
      await stopped;
      await alertsStopped;
      await remoteWriteStopped;
      store.close();
      log.info('hub stopped');
    },
  };
}

/** Answers a refused WebSocket upgrade with a plain-text reason and closes. */
function refuse(socket: Duplex, status: number, text: string, body: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function safePing(store: Store): boolean {
  try {
    return store.ping();
  } catch {
    return false;
  }
}

/** Throws a message naming the problem when the TLS certificate or key cannot be used. */
function checkTls(tls: { cert: string | Buffer; key: string | Buffer }): void {
  try {
    createSecureContext({ cert: tls.cert, key: tls.key });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint =
      e.code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' || /key values mismatch/i.test(e.message)
        ? 'the private key does not belong to the certificate'
        : 'the certificate and the key must be PEM files (-----BEGIN CERTIFICATE----- and -----BEGIN … PRIVATE KEY-----)';
    throw new Error(`cannot use the TLS certificate and key: ${e.message} (${hint})`);
  }
}

function listen(server: Server | HttpsServer, port: number, host: string): Promise<void> {
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
