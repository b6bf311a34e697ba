import type { ActionEvent } from '../events/event.types.js';
import { assertNever } from '../events/event.types.js';
import { ActionError, retryDelaySeconds } from './action-error.js';

/**
 * The action stream's rules, as pure functions (docs/architecture.md, "Which
 * rules live where"): the statuses, what each event leaves an action in
 * (evolve), what an operator may do to an action (decide), and what an
 * attempt's result becomes: success, retry with backoff, dead letter or
 * failure (decideAttempt). The worker, the API, the CLI and replay use these;
 * PostgreSQL enforces only what must hold under races (the fence, the claim,
 * the projection guard, orphan recovery in the fenced statement).
 */
export const ACTION_STATUSES = [
  'PENDING',
  'RUNNING',
  'RETRY',
  'SUCCESS',
  'FAILED',
  'DLQ',
  'UNKNOWN',
  'CANCELLED',
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** The status an action event leaves its action in (the aol_actions projection applies the same). */
export function evolveAction(type: ActionEvent['type']): ActionStatus {
  switch (type) {
    case 'ActionEnqueued':
    case 'ActionRequeued':
      return 'PENDING';
    case 'ActionStarted':
      return 'RUNNING';
    case 'ActionSucceeded':
      return 'SUCCESS';
    case 'ActionRetryScheduled':
      return 'RETRY';
    case 'ActionFailed':
      return 'FAILED';
    case 'ActionDeadLettered':
      return 'DLQ';
    case 'ActionOutcomeUnknown':
      return 'UNKNOWN';
    case 'ActionCancelled':
      return 'CANCELLED';
    default:
      return assertNever(type);
  }
}

/** What an operator asks of one action. */
export type ActionCommand = 'retry' | 'cancel';

const ALLOWED: Readonly<Record<ActionCommand, readonly ActionStatus[]>> = {
  retry: ['DLQ', 'FAILED', 'UNKNOWN'],
  cancel: ['PENDING', 'RETRY', 'DLQ', 'FAILED', 'UNKNOWN'],
};

type OperatorEvent = Extract<ActionEvent, { type: 'ActionRequeued' | 'ActionCancelled' }>;

/** Retry (requeue) or cancel an action in `status`: the event, or why not. */
export function decideAction(
  command: ActionCommand,
  status: string,
): { event: OperatorEvent } | { refused: string } {
  const allowed = ALLOWED[command];
  if (!(allowed as readonly string[]).includes(status)) {
    const verb = command === 'retry' ? 'retried' : 'cancelled';
    return { refused: `is ${status}; only ${allowed.join(', ')} actions can be ${verb}` };
  }
  switch (command) {
    case 'retry':
      return { event: { type: 'ActionRequeued', data: { previous_status: status } } };
    case 'cancel':
      return { event: { type: 'ActionCancelled', data: { previous_status: status } } };
    default:
      return assertNever(command);
  }
}

type Data<T extends ActionEvent['type']> = Extract<ActionEvent, { type: T }>['data'];

/**
 * An attempt's outcome as aol_record_and_claim takes it: the catalogue's event
 * (event.types.ts), except that a retry carries its delay (the database turns
 * it into retry_at on its own clock) and a failure may carry the receiver's
 * words for the execution log line (`detail`, never in the event).
 */
export type AttemptOutcome =
  | {
      type: 'ActionSucceeded';
      data: Data<'ActionSucceeded'>;
      artifact?: { contentType: string; body: string };
    }
  | {
      type: 'ActionRetryScheduled';
      data: Omit<Data<'ActionRetryScheduled'>, 'retry_at' | 'recovered'> & {
        retry_in_seconds: number;
        detail?: string;
      };
    }
  | {
      type: 'ActionDeadLettered' | 'ActionFailed';
      data: Data<'ActionDeadLettered' | 'ActionFailed'> & { detail?: string };
    };

export type RetryPolicy = Readonly<{ maxRetries: number; baseSeconds: number; maxSeconds: number }>;

/** What an attempt produced: a message (and, in proof mode or from the handler, an artifact), or an error. */
export type AttemptResult =
  | Readonly<{
      ok: true;
      message: string;
      artifact?: Readonly<{ contentType: string; body: string; sha256: string }>;
    }>
  | Readonly<{ ok: false; error: ActionError }>;

/**
 * The retry-or-dead-letter rule, in one place: a permanent failure fails the
 * action; a transient one is retried after base × 2^(n−1) (capped, ±20 %
 * jitter) until attempt n reaches AOL_MAX_RETRIES, then dead-lettered.
 */
export function decideAttempt(
  actionId: number,
  attempt: number,
  result: AttemptResult,
  policy: RetryPolicy,
  random: () => number = Math.random,
): AttemptOutcome {
  if (result.ok) {
    const a = result.artifact;
    if (!a) return { type: 'ActionSucceeded', data: { attempt, message: result.message } };
    return {
      type: 'ActionSucceeded',
      data: {
        attempt,
        message: result.message,
        artifact_ref: `${actionId}/${a.sha256}`,
        artifact_sha256: a.sha256,
      },
      artifact: { contentType: a.contentType, body: a.body },
    };
  }
  const e = result.error;
  const detail = e.detail ? { detail: e.detail } : {};
  if (e.kind === 'permanent')
    return { type: 'ActionFailed', data: { attempt, error: e.message, ...detail } };
  if (attempt >= policy.maxRetries)
    return {
      type: 'ActionDeadLettered',
      data: {
        attempt,
        error: `${e.message} (attempt ${attempt} of ${policy.maxRetries})`,
        ...detail,
      },
    };
  const delay = retryDelaySeconds(attempt, policy.baseSeconds, policy.maxSeconds, random);
  return {
    type: 'ActionRetryScheduled',
    data: {
      attempt,
      error: e.message,
      retry_in_seconds: Math.round(delay * 1000) / 1000,
      ...detail,
    },
  };
}
