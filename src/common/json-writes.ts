import type { NextFunction, Response } from 'express';
import type { AolRequest } from './request-actor.js';

/**
 * Writes carry JSON or nothing. An HTML form can only send
 * application/x-www-form-urlencoded, multipart/form-data or text/plain, and
 * a cross-origin page can't send application/json without a CORS preflight
 * (which the API refuses for origins not in AOL_CORS_ORIGINS): so a form on
 * another site can't make a write, even in open (no-token) dev mode.
 */
export function jsonWritesOnly(req: AolRequest, res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
  const type = req.header('content-type');
  const hasBody =
    Number(req.header('content-length') ?? 0) > 0 || !!req.header('transfer-encoding');
  if ((type === undefined && !hasBody) || /^application\/json\s*(;|$)/i.test(type ?? ''))
    return next();
  res.status(415).json({
    statusCode: 415,
    error: 'Unsupported Media Type',
    message: 'content-type: writes accept only application/json',
    request_id: req.id,
  });
}
