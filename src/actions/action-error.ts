/**
 * How an attempt failed. `transient` failures (5xx, 408, 429, timeouts,
 * connection errors) are retried with backoff; `permanent` ones (other 4xx,
 * invalid data, REAL_RUN_UNCONFIGURED) fail the action at once.
 */
export class ActionError extends Error {
  constructor(
    readonly kind: 'transient' | 'permanent',
    message: string,
    /** What the receiver said (capped, secrets scrubbed): for the execution log, not last_error. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

export const REAL_RUN_UNCONFIGURED = 'REAL_RUN_UNCONFIGURED';

export function unconfigured(what: string): ActionError {
  return new ActionError('permanent', `${REAL_RUN_UNCONFIGURED}: ${what}`);
}

/** HTTP status → outcome class, per SPEC §4. */
export function classifyHttpStatus(status: number): 'ok' | 'transient' | 'permanent' {
  if (status >= 200 && status < 300) return 'ok';
  if (status >= 500 || status === 408 || status === 429) return 'transient';
  return 'permanent';
}

/** Any thrown value as an ActionError: aborts and network errors are transient. */
export function toActionError(err: unknown, signal?: AbortSignal): ActionError {
  if (err instanceof ActionError) return err;
  if (signal?.aborted) {
    const reason =
      signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
    return new ActionError('transient', `aborted: ${reason}`);
  }
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const detail = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
  return new ActionError('transient', `connection error: ${detail}`);
}

/**
 * Retry delay after failed attempt n (1-based): base × 2^(n−1), capped at max,
 * then ±20 % jitter.
 */
export function retryDelaySeconds(
  attempt: number,
  baseSeconds: number,
  maxSeconds: number,
  random = Math.random,
): number {
  const raw = Math.min(maxSeconds, baseSeconds * 2 ** (attempt - 1));
  return raw * (0.8 + 0.4 * random());
}
