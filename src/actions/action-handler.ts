import { Config } from '../config/config.js';
import { Validation } from './payload.js';
import type { LookupFn } from './outbound.js';

/** The exact request a handler would send: what a proof artifact stores, what real mode sends. */
export type RenderedRequest = Readonly<Record<string, unknown>>;

/** A real-mode outcome; `output` (e.g. generated text) is stored like an artifact. */
export type ExecutionResult = Readonly<{
  message: string;
  output?: { contentType: string; body: string };
}>;

export type HandlerContext = Readonly<{
  actionId: number;
  idempotencyKey: string;
  config: Config;
  /** DNS lookup for outbound connections (tests resolve names without a DNS server). */
  lookup?: LookupFn;
}>;

/** What validation may depend on: the configuration (credential header names, production). */
export type ValidateContext = Readonly<{ config: Config }>;

/**
 * One action type. Adding a type is one new file exporting a handler, plus a
 * line in the registry (action-registry.ts).
 *
 * `idempotent` says whether running the action again after a crash is safe
 * towards its receiver (the webhook sends an Idempotency-Key the receiver
 * deduplicates on; an email has no such key). It decides what happens to an
 * action found RUNNING under a dead worker: RETRY when idempotent, else UNKNOWN.
 */
export interface ActionHandler<P = unknown> {
  readonly type: string;
  readonly idempotent: boolean;
  validate(payload: unknown, ctx: ValidateContext): Validation<P>;
  /** Checks at enqueue that need I/O (a webhook's DNS in production): a refusal message, or undefined. */
  preflight?(payload: P, ctx: ValidateContext): Promise<string | undefined>;
  /** The request that would be sent, with no secret in it (it is stored as the proof artifact). */
  render(payload: P, ctx: HandlerContext): RenderedRequest;
  /** Real mode: send it. Resolves with what happened; throws ActionError. Must honour `signal`. */
  execute(payload: P, ctx: HandlerContext & { signal: AbortSignal }): Promise<ExecutionResult>;
}
