import type { Request } from 'express';
import { Actor } from './actor.js';

/** Express request with the fields our middleware and guard attach. */
export type AolRequest = Request & { id?: string; principal?: { name: string; role: string } };

/** The actor of an HTTP request: the token's name (or `anonymous`), via `ui` when the UI marks it. */
export function actorFrom(req: AolRequest): Actor {
  return {
    name: req.principal?.name ?? 'anonymous',
    via: req.header('x-aol-client') === 'ui' ? 'ui' : 'api',
    requestId: req.id,
  };
}
