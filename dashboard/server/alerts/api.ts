// Alerts under /api/v1/alerts: rules (list, create, replace, delete), history, what fires now,
// webhook settings and a test delivery. Routes parse and check (validate.ts), then ask the
// alert store; the engine is poked after a rule change so its effect shows within a moment.
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { AlertEventsResponse, AlertRulesResponse, AlertSettingsView, WebhookTestResponse } from '../../../shared/alerts.js';
import { DEVICE_ID_RE } from '../../../shared/protocol.js';
import { BadRequest, stringParam } from '../api.js';
import type { Alerts } from './index.js';
import { newSigningSecret } from './webhook-signature.js';
import { parseRuleInput, parseSettings, parseTestTarget } from './validate.js';

const DEFAULT_EVENTS = 200;
const MAX_EVENTS = 1000;

export function alertsRouter(alerts: Alerts): Router {
  const api = Router();
  const { store, engine } = alerts;
  const json = express.json({ limit: '16kb' });
  const body = [requireJson, json];

  api.get('/alerts/rules', (_req, res) => {
    res.json({ rules: store.rules() } satisfies AlertRulesResponse);
  });

  api.post('/alerts/rules', ...body, (req, res) => {
    const rule = store.insertRule(parseRuleInput(req.body), Date.now());
    engine.poke();
    res.status(201).json({ rule });
  });

  api.put('/alerts/rules/:id', ...body, (req, res) => {
    const id = ruleId(req.params.id);
    const rule = store.updateRule(id, parseRuleInput(req.body), Date.now());
    if (!rule) return notFound(res, id);
    engine.poke();
    res.json({ rule });
  });

  api.delete('/alerts/rules/:id', (req, res) => {
    const id = ruleId(req.params.id);
    if (!store.deleteRule(id)) return notFound(res, id);
    engine.poke();
    res.status(204).end();
  });

  api.get('/alerts/events', (req, res) => {
    const device = stringParam(req, 'device');
    if (device !== undefined && !DEVICE_ID_RE.test(device)) {
      throw new BadRequest(`device must be a device id (1–64 characters of [A-Za-z0-9_.-]), got ${JSON.stringify(device.slice(0, 70))}`);
    }
    const rule = intParam(req, 'rule');
    const beforeId = intParam(req, 'before');
    const limit = intParam(req, 'limit') ?? DEFAULT_EVENTS;
    if (limit < 1 || limit > MAX_EVENTS) throw new BadRequest(`limit must be 1–${MAX_EVENTS}, got ${limit}`);
    res.json({ events: store.events({ device, rule, beforeId, limit }) } satisfies AlertEventsResponse);
  });

  api.get('/alerts/active', (_req, res) => {
    res.json({ events: store.openAlerts() } satisfies AlertEventsResponse);
  });

  // The signing secret shows here only as "set, since when": its value is returned once, by rotate.
  api.get('/alerts/settings', (_req, res) => {
    res.json(store.settingsView() satisfies AlertSettingsView);
  });

  api.put('/alerts/settings', ...body, (req, res) => {
    store.setSettings(parseSettings(req.body), Date.now());
    res.json(store.settingsView() satisfies AlertSettingsView);
  });

  // A new signing secret, shown this once; the old one stops signing at once. Never logged.
  api.post('/alerts/settings/signing-secret/rotate', ...body, (_req, res) => {
    const { secret, createdAt } = store.rotateSigningSecret(newSigningSecret(), Date.now());
    res.setHeader('cache-control', 'no-store');
    res.json({ secret, createdAt });
  });

  // One POST of a sample payload to the URL in the body, or to the saved one; no retry.
  api.post('/alerts/test', ...body, async (req, res) => {
    const url = parseTestTarget(req.body) ?? store.settings().webhookUrl;
    if (url === null) throw new BadRequest('no webhook URL: save one with PUT /api/v1/alerts/settings, or send {"webhookUrl": "https://…"}');
    res.json((await alerts.webhook.test(url)) satisfies WebhookTestResponse);
  });

  // A malformed JSON body (from express.json) is the client's mistake, not the hub's.
  api.use('/alerts', (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500 && !(err instanceof BadRequest)) {
      return void res.status(status).json({ error: `bad request body: ${(err as Error).message}` });
    }
    next(err);
  });
  return api;
}

/** JSON only: also keeps other sites' plain form posts out (they cannot send this type without asking). */
function requireJson(req: Request, res: Response, next: NextFunction): void {
  if (req.is('application/json')) return next();
  // A body-less POST (the test button without a URL) is fine: it carries nothing to misread.
  const length = req.headers['content-length'];
  if (req.method === 'POST' && (length === undefined || length === '0') && !req.headers['transfer-encoding']) return next();
  res.status(415).json({ error: 'send the body as application/json' });
}

function notFound(res: Response, id: number): void {
  res.status(404).json({ error: `no alert rule with id ${id}; GET /api/v1/alerts/rules lists them` });
}

function ruleId(raw: unknown): number {
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) throw new BadRequest(`rule id must be a positive integer, got ${JSON.stringify(String(raw).slice(0, 30))}`);
  return Number(raw);
}

function intParam(req: Request, name: string): number | undefined {
  const raw = stringParam(req, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new BadRequest(`${name} must be a non-negative integer, got ${JSON.stringify(raw.slice(0, 30))}`);
  return Number(raw);
}
