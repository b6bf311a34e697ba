import { randomUUID } from 'node:crypto';
import type { NextFunction, Response } from 'express';
import type { AolRequest } from './request-actor.js';

/** Every request gets an id (the caller's X-Request-Id when it is sane), echoed in the response and error bodies. */
export function requestId(req: AolRequest, res: Response, next: NextFunction): void {
  const given = req.header('x-request-id');
  req.id = given && /^[\w.:-]{1,64}$/.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', req.id);
  next();
}
