import { DomainError } from './errors.js';
import { dbReason } from './db-reason.js';

/**
 * "Not now, try again": 503 (the database is unreachable, every connection is
 * busy, the server is at its SSE capacity) or 429 (this caller is over its
 * share). The error filter sends `Retry-After` with it.
 */
export class RetryLaterError extends DomainError {
  constructor(
    message: string,
    status: 429 | 503,
    readonly retryAfterSeconds: number,
  ) {
    super(message, status);
  }
}

/** SQLSTATE classes and codes that mean "the server is not there for us", not "your query is wrong". */
const UNAVAILABLE_CODES = new Set([
  '57P01', // admin shutdown (a restart)
  '57P02', // crash shutdown
  '57P03', // cannot connect now (starting up)
  '53300', // too many connections
  '53000', // insufficient resources
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);
/** What pg and pg-pool say, without a code, when a connection is gone or none is free. */
const UNAVAILABLE_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|not queryable|database did not answer/i;

/** Whether `err` says the database is unreachable or out of connections (retryable later). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('08')) return true;
  return typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message);
}

/** A database fault as the 503 a client should retry; anything else unchanged. */
export function toRetryLater(err: unknown): unknown {
  if (!isDatabaseUnavailable(err)) return err;
  const busy = /timeout exceeded when trying to connect/i.test((err as Error).message ?? '');
  return busy
    ? new RetryLaterError('database busy: no connection free in time; retry shortly', 503, 1)
    : new RetryLaterError(`database unavailable: ${dbReason(err)}; retry shortly`, 503, 2);
}
