// The hub's HTTP side of authentication: /api/v1/login, /logout, /session, and the check in
// front of every other /api/v1 route and the /ws/live upgrade (a session cookie or an API token).
//
// CSRF: the only state-changing routes a cookie can reach are login and logout (the API is
// read-only), and they
//   - take JSON only (415 otherwise): a cross-site <form> cannot send application/json, and a
//     cross-site fetch() with that type needs a CORS preflight, which the hub never grants;
//   - refuse a request whose Origin header (when there is one) does not match its Host (403);
//   - set and read a SameSite=Strict cookie, which browsers do not send on cross-site requests.
// Cookie-authenticated requests other than GET/HEAD get the same Origin check.
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { IpLimiter } from '../rate-limit.js';
import type { Credentials, Principal } from './credentials.js';
import { clearedSessionCookie, sessionCookie, sessionIdFromCookie } from './sessions.js';
import { bearerToken } from './tokens.js';

export const LOGIN_PATH = '/api/v1/login';
/** A failed login answers no sooner than this after it arrived, whatever went wrong. */
export const LOGIN_FAIL_DELAY_MS = 400;

export const LOGIN_REQUIRED = { error: 'login required', login: LOGIN_PATH } as const;

/** Who a request is from: a session cookie or an `ewa_` API token. 'bad-token' when a bearer token was given and is not valid. */
export function authenticate(creds: Credentials, headers: IncomingHttpHeaders): Principal | 'bad-token' | null {
  const bearer = bearerToken(headers.authorization);
  if (bearer !== undefined) return creds.checkApiToken(bearer) ?? 'bad-token';
  const sid = sessionIdFromCookie(headers.cookie);
  return sid ? creds.sessionPrincipal(sid) : null;
}

/** False when an Origin header is present and names another host than the request's Host. */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const host = req.headers.host;
  if (!host) return false;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false; // includes Origin: null (sandboxed frames, file:)
  }
}

export function requireAuth(creds: Credentials) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const who = authenticate(creds, req.headers);
    if (who === 'bad-token') {
      res.status(401).json({ error: 'invalid or revoked API token', login: LOGIN_PATH });
      return;
    }
    if (!who) {
      res.status(401).json(LOGIN_REQUIRED);
      return;
    }
    if (who.kind === 'session' && req.method !== 'GET' && req.method !== 'HEAD' && !sameOrigin(req)) {
      res.status(403).json({ error: 'cross-origin request refused: Origin does not match Host' });
      return;
    }
    res.locals.principal = who;
    next();
  };
}

export interface AuthRouteOptions {
  secureCookies: boolean;
  /** Per-IP budget of login attempts. */
  loginLimiter: IpLimiter;
  failDelayMs?: number;
}

export function authRouter(creds: Credentials, opts: AuthRouteOptions): Router {
  const router = Router();
  const failDelay = opts.failDelayMs ?? LOGIN_FAIL_DELAY_MS;
  const jsonBody = express.json({ limit: '4kb' });

  router.post(
    '/login',
    (req, res, next) => {
      if (!sameOrigin(req)) return void res.status(403).json({ error: 'cross-origin login refused: Origin does not match Host' });
      if (!req.is('application/json')) return void res.status(415).json({ error: 'send the login as application/json: {"user": "...", "password": "..."}' });
      const wait = opts.loginLimiter.take(req.socket.remoteAddress ?? 'unknown');
      if (wait > 0) {
        res.setHeader('Retry-After', String(wait));
        return void res.status(429).json({ error: `too many login attempts from this address; retry in ${wait} s` });
      }
      next();
    },
    jsonBody,
    async (req, res) => {
      const started = Date.now();
      const body = req.body as { user?: unknown; password?: unknown } | undefined;
      const user = body?.user;
      const password = body?.password;
      const wellFormed = typeof user === 'string' && typeof password === 'string' && user.length <= 256 && password.length <= 1024;
      if (wellFormed && (await creds.checkPassword(user, password))) {
        const sid = creds.createSession(user);
        res.setHeader('Set-Cookie', sessionCookie(sid, opts.secureCookies));
        res.status(204).end();
        return;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, failDelay - (Date.now() - started))));
      if (!wellFormed) return void res.status(400).json({ error: 'the body must be {"user": "...", "password": "..."}' });
      res.status(401).json({ error: 'wrong user or password' });
    },
  );

  router.post('/logout', (req, res) => {
    if (!sameOrigin(req)) return void res.status(403).json({ error: 'cross-origin logout refused: Origin does not match Host' });
    const sid = sessionIdFromCookie(req.headers.cookie);
    if (sid) creds.endSession(sid);
    res.setHeader('Set-Cookie', clearedSessionCookie(opts.secureCookies));
    res.status(204).end();
  });

  router.get('/session', (req, res) => {
    const who = authenticate(creds, req.headers);
    if (!who || who === 'bad-token') return void res.status(401).json(LOGIN_REQUIRED);
    if (who.kind === 'session') return void res.json({ user: who.user });
    res.json({ user: null, apiToken: { id: who.id, name: who.name } });
  });

  // A malformed JSON body (from express.json) is the client's mistake, not the hub's.
  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return void res.status(status).json({ error: `bad login request: ${(err as Error).message}` });
    }
    next(err);
  });
  return router;
}
