import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import { redactQuery } from './redact.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { logDestination } from './log.js';

/** Strip credentials from a URL before it is logged (EventSource passes ?access_token=). */
export const redactUrl = redactQuery;

/**
 * Structured JSON logs (pino): one line per request with its id — the same id
 * the response carries in X-Request-Id and error bodies. Headers are not
 * logged at all, so no Authorization or cookie can leak.
 */
export const loggingModule = LoggerModule.forRoot({
  pinoHttp: [
    {
      name: 'api',
      level: process.env.NODE_ENV === 'test' ? 'warn' : 'info',
      genReqId: (req: IncomingMessage & { id?: string }) => req.id ?? randomUUID(),
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.url),
        }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' },
    },
    logDestination(process.stdout),
  ],
});
