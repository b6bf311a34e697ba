import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { Response } from 'express';
import { DomainError } from '../common/errors.js';
import { mapDbError } from '../db/db-errors.js';
import { RetryLaterError, toRetryLater } from '../common/unavailable.js';
import type { AolRequest } from '../common/request-actor.js';

type Body = {
  statusCode: number;
  error: string;
  message: string | string[];
  request_id: string | undefined;
};

const MAX_MESSAGES = 20;
const MAX_MESSAGE_CHARS = 500;

/** Error bodies stay small whatever the input: 60,000 unknown keys are 20 messages and a count. */
function capMessage(message: string | string[]): string | string[] {
  const cut = (m: string) =>
    m.length > MAX_MESSAGE_CHARS ? `${m.slice(0, MAX_MESSAGE_CHARS)}… (truncated)` : m;
  if (!Array.isArray(message)) return cut(String(message));
  const head = message.slice(0, MAX_MESSAGES).map(cut);
  if (message.length > MAX_MESSAGES) head.push(`… and ${message.length - MAX_MESSAGES} more`);
  return head;
}

/**
 * The one place errors become HTTP responses: `{statusCode, error, message,
 * request_id}`. Domain errors keep their status; body-parser errors (bad JSON,
 * too large) keep theirs; a database fault is a 503 with Retry-After
 * (common/unavailable.ts), never a 500; anything unexpected is a 500 whose message says
 * nothing internal — the details go to the log under the same request id.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('http');

  catch(raw: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<AolRequest>();
    const res = ctx.getResponse<Response>();
    const err = toRetryLater(mapDbError(raw));
    let status = 500;
    let message: string | string[] = 'internal error';
    if (err instanceof DomainError) {
      status = err.status;
      message = err.message;
    } else if (err instanceof HttpException) {
      status = err.getStatus();
      const r = err.getResponse();
      message =
        typeof r === 'string' ? r : ((r as { message?: string | string[] }).message ?? err.message);
    } else if (
      typeof (err as { status?: unknown }).status === 'number' &&
      (err as { expose?: boolean }).expose
    ) {
      // body-parser: 400 malformed JSON, 413 too large, 415 bad charset
      status = (err as { status: number }).status;
      message = status === 413 ? 'request body too large (limit 1 MB)' : (err as Error).message;
    }
    if (err instanceof RetryLaterError)
      this.log.warn(`${req.method} ${req.path} [${req.id}] ${status}: ${err.message}`);
    else if (status >= 500)
      this.log.error(
        `${req.method} ${req.path} [${req.id}] ${(err as Error)?.stack ?? String(err)}`,
      );
    if (res.headersSent) {
      res.end();
      return;
    }
    const body: Body = {
      statusCode: status,
      error: STATUS_CODES[status] ?? 'Error',
      message: capMessage(message),
      request_id: req.id,
    };
    if (err instanceof RetryLaterError) res.setHeader('Retry-After', String(err.retryAfterSeconds));
    res.status(status).json(body);
  }
}
