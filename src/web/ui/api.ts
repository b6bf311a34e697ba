import type { AolEvent, UiConfig } from './types';

declare global {
  interface Window {
    AOL_CONFIG?: Partial<UiConfig>;
  }
}

export const config: UiConfig = {
  backendUrl: (window.AOL_CONFIG?.backendUrl ?? '').replace(/\/+$/, ''),
  dangerousUiOps: window.AOL_CONFIG?.dangerousUiOps === true,
  production: window.AOL_CONFIG?.production === true,
  authRequired: window.AOL_CONFIG?.authRequired === true,
};

/** Without a token, an API that requires one is only asked for its public health. */
export const canRead = (): boolean => !config.authRequired || getToken() !== '';

const TOKEN_KEY = 'aol.token';
export const getToken = (): string => sessionStorage.getItem(TOKEN_KEY) ?? '';
export const setToken = (t: string): void =>
  t ? sessionStorage.setItem(TOKEN_KEY, t) : sessionStorage.removeItem(TOKEN_KEY);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Every request is marked as the UI's (X-AOL-Client: ui) so the API can refuse dangerous operations. */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const headers: Record<string, string> = { 'X-AOL-Client': 'ui' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${config.backendUrl}${path}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(8000),
    });
  } catch {
    throw new ApiError(0, 'backend unreachable');
  }
  const text = await res.text();
  const body = text ? (JSON.parse(text) as unknown) : null;
  if (!res.ok) {
    const m = (body as { message?: string | string[] } | null)?.message;
    throw new ApiError(res.status, Array.isArray(m) ? m.join('; ') : (m ?? res.statusText));
  }
  return body as T;
}

export async function apiText(path: string): Promise<{ text: string; type: string }> {
  const headers: Record<string, string> = { 'X-AOL-Client': 'ui' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${config.backendUrl}${path}`, { headers });
  if (!res.ok) throw new ApiError(res.status, res.statusText);
  return { text: await res.text(), type: res.headers.get('content-type') ?? '' };
}

export function eventStreamUrl(after: number): string {
  const q = new URLSearchParams({ after: String(after) });
  const token = getToken();
  if (token) q.set('access_token', token);
  return `${config.backendUrl}/events/stream?${q}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const optString = (o: Record<string, unknown>, k: string): string | undefined =>
  typeof o[k] === 'string' ? o[k] : undefined;

/** The event an SSE frame carries, narrowed from its JSON (undefined if it is not one). */
export function parseEventFrame(text: string): AolEvent | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(v)) return undefined;
  const { seq, stream, type, occurred_at, data, metadata } = v;
  if (typeof seq !== 'number' || typeof stream !== 'string' || typeof type !== 'string')
    return undefined;
  if (typeof occurred_at !== 'string') return undefined;
  const m = isRecord(metadata) ? metadata : {};
  return {
    seq,
    stream,
    type,
    occurred_at,
    data: isRecord(data) ? data : {},
    metadata: {
      actor: optString(m, 'actor'),
      via: optString(m, 'via'),
      reason: optString(m, 'reason'),
    },
  };
}

export const EVENT_TYPES = [
  'ControlPaused',
  'ControlResumed',
  'ControlKilled',
  'ControlRevived',
  'ProofModeEnabled',
  'ProofModeDisabled',
  'ProofModeDisableRequested',
  'ProofModeDisableApproved',
  'ProofModeDisableExpired',
  'ScopedPauseStarted',
  'ScopedPauseEnded',
  'ControlAcknowledged',
  'ProductionModeEntered',
  'ProductionModeCleared',
  'TestClockSet',
  'LeaseAcquired',
  'LeaseRenewed',
  'LeaseReleased',
  'LeaseExpired',
  'LeaseForceReleased',
  'FencedWriteRejected',
  'TickRecorded',
  'ActionEnqueued',
  'ActionStarted',
  'ActionSucceeded',
  'ActionRetryScheduled',
  'ActionFailed',
  'ActionDeadLettered',
  'ActionOutcomeUnknown',
  'ActionCancelled',
  'ActionRequeued',
  'ScheduleCreated',
  'SchedulePaused',
  'ScheduleResumed',
  'ScheduleDeleted',
  'ScheduleFired',
  'ScheduleFiresMissed',
];
