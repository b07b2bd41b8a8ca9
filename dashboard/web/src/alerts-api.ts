// REST calls of the alerts page (/api/v1/alerts/…). Paths are relative to the page, like
// api.ts; a 401 raises the login view there, and any other failure is an ApiError carrying the
// hub's message (which names the field at fault).
import type {
  AlertEvent,
  AlertEventsResponse,
  AlertRule,
  AlertRuleInput,
  AlertRulesResponse,
  AlertSettings,
  AlertSettingsView,
  WebhookTestResponse,
} from '../../../shared/alerts.js';
import { ApiError, authRequired, errorMessage } from './api.js';

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    method,
    signal,
    cache: 'no-store',
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    if (res.status === 401) authRequired();
    throw new ApiError(await errorMessage(res), res.status);
  }
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export async function listRules(signal?: AbortSignal): Promise<AlertRule[]> {
  return (await request<AlertRulesResponse>('GET', 'api/v1/alerts/rules', undefined, signal)).rules;
}

export async function createRule(input: AlertRuleInput): Promise<AlertRule> {
  return (await request<{ rule: AlertRule }>('POST', 'api/v1/alerts/rules', input)).rule;
}

export async function updateRule(id: number, input: AlertRuleInput): Promise<AlertRule> {
  return (await request<{ rule: AlertRule }>('PUT', `api/v1/alerts/rules/${id}`, input)).rule;
}

export function deleteRule(id: number): Promise<void> {
  return request('DELETE', `api/v1/alerts/rules/${id}`);
}

export async function activeAlerts(signal?: AbortSignal): Promise<AlertEvent[]> {
  return (await request<AlertEventsResponse>('GET', 'api/v1/alerts/active', undefined, signal)).events;
}

export async function alertHistory(q: { device?: string | null; limit?: number }, signal?: AbortSignal): Promise<AlertEvent[]> {
  const params = new URLSearchParams();
  if (q.device) params.set('device', q.device);
  if (q.limit) params.set('limit', String(q.limit));
  const s = params.toString();
  return (await request<AlertEventsResponse>('GET', `api/v1/alerts/events${s ? `?${s}` : ''}`, undefined, signal)).events;
}

/** GET /api/v1/alerts/settings: the signing secret only as "set, since when". */
export function getAlertSettings(signal?: AbortSignal): Promise<AlertSettingsView> {
  return request('GET', 'api/v1/alerts/settings', undefined, signal);
}

export function saveAlertSettings(settings: AlertSettings): Promise<AlertSettingsView> {
  return request('PUT', 'api/v1/alerts/settings', settings);
}

/** A new webhook signing secret: its value comes back this once only. */
export function rotateSigningSecret(): Promise<{ secret: string; createdAt: number }> {
  return request('POST', 'api/v1/alerts/settings/signing-secret/rotate');
}

/** One test POST to `url` (or to the saved URL when omitted). */
export function testWebhook(url?: string): Promise<WebhookTestResponse> {
  return request('POST', 'api/v1/alerts/test', url === undefined ? undefined : { webhookUrl: url });
}
