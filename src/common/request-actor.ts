import type { Request } from 'express';
import { Actor } from './actor.js';

/** Express request with the fields our middleware and guard attach. */
export type AolRequest = Request & { id?: string; principal?: { name: string; role: string } };

/** The actor of an HTTP request: the token's name (or `anonymous`), via `ui` when the UI marks it. */
export function actorFrom(req: AolRequest): Actor {
  return {
    name: req.principal?.name ?? 'anonymous',
    via: fromUi(req) ? 'ui' : 'api',
    requestId: req.id,
  };
}

/**
 * Whether the request says it comes from the UI. Case-insensitive, and a
 * header sent twice (Node joins the values with ", ") counts if any value is
 * `ui`: this decides the refusal of dangerous operations, so doubt means UI.
 */
export function fromUi(req: AolRequest): boolean {
  const raw = req.headers['x-aol-client'];
  const values = (Array.isArray(raw) ? raw : [raw ?? '']).flatMap((v) => v.split(','));
  return values.some((v) => v.trim().toLowerCase() === 'ui');
}
