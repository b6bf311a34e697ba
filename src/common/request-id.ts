import { randomBytes, randomUUID } from 'node:crypto';
import type { NextFunction, Response } from 'express';
import type { AolRequest } from './request-actor.js';

/**
 * Every request gets an id, echoed in X-Request-Id, error bodies and the
 * metadata of the events it writes. A caller's X-Request-Id (when sane) is
 * kept as the prefix, for their tracing, but we always add our own random
 * suffix: a client can't make its event carry another request's id.
 */
export function requestId(req: AolRequest, res: Response, next: NextFunction): void {
  const given = req.header('x-request-id');
  req.id =
    given && /^[\w.:-]{1,64}$/.test(given)
      ? `${given}~${randomBytes(4).toString('hex')}`
      : randomUUID();
  res.setHeader('X-Request-Id', req.id);
  next();
}
