import { Config } from '../config/config.js';
import { Db } from '../db/db.js';
import { HANDLERS } from '../actions/action-registry.js';
import { ActionError, retryDelaySeconds, toActionError } from '../actions/action-error.js';
import { Artifact, mirrorArtifact, sha256, storeArtifact } from '../actions/artifacts.js';
import { ClaimedAction, writeOutcome } from './worker.sql.js';

export type AttemptResult = 'success' | 'failed' | 'overran' | 'fenced';

type Logger = (level: 'info' | 'warn' | 'error', msg: string) => void;

type Outcome =
  | {
      type: 'ActionSucceeded';
      data: { attempt: number; message: string; artifact_ref?: string; artifact_sha256?: string };
      artifact?: { contentType: string; body: string };
    }
  | {
      type: 'ActionRetryScheduled';
      data: { attempt: number; error: string; retry_in_seconds: number };
    }
  | { type: 'ActionDeadLettered' | 'ActionFailed'; data: { attempt: number; error: string } };

/**
 * Runs one claimed attempt and records its outcome behind the fence.
 *
 * Proof mode renders the exact request and stops at the transport boundary:
 * the artifact is stored in PostgreSQL with its SHA-256 (and mirrored to
 * AOL_ARTIFACT_DIR). Real mode sends it through the handler. The attempt is
 * aborted through its AbortSignal when the tick budget runs out (→ retried,
 * the tick is PARTIAL) or the lease is lost (→ nothing more is written but the
 * FencedWriteRejected record; the next holder recovers the action).
 */
export class ActionRunner {
  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly worker: string,
    private readonly log: Logger,
  ) {}

  async run(
    a: ClaimedAction,
    epoch: number,
    proof: boolean,
    leaseSignal: AbortSignal,
    budgetMs: number,
  ): Promise<AttemptResult> {
    const handler = HANDLERS.get(a.action_type);
    const ctx = { actionId: a.id, idempotencyKey: a.idempotency_key, config: this.config };
    const budget = new AbortController();
    const timer = setTimeout(
      () =>
        budget.abort(
          new Error(
            `exceeded the tick budget (AOL_MAX_TICK_SECONDS=${this.config.maxTickSeconds})`,
          ),
        ),
      Math.max(1, budgetMs),
    );
    const signal = AbortSignal.any([leaseSignal, budget.signal]);
    let outcome: Outcome;
    let overran = false;
    try {
      if (!handler)
        throw new ActionError('permanent', `invalid data: unknown action type ${a.action_type}`);
      const valid = handler.validate(a.payload);
      if (!valid.ok) throw new ActionError('permanent', `invalid data: ${valid.errors.join('; ')}`);
      if (proof) {
        const body = JSON.stringify(handler.render(valid.value, ctx), null, 2);
        outcome = this.success(a, 'proof mode: request rendered and stored, not sent', {
          contentType: 'application/json',
          body,
        });
      } else {
        const r = await raceAbort(handler.execute(valid.value, { ...ctx, signal }), signal);
        outcome = this.success(a, r.message, r.output);
      }
    } catch (err) {
      const e = toActionError(err, signal);
      overran = budget.signal.aborted && !leaseSignal.aborted;
      outcome = this.failure(a, e);
    } finally {
      clearTimeout(timer);
    }
    return this.record(a, epoch, outcome, overran);
  }

  private success(
    a: ClaimedAction,
    message: string,
    artifact?: { contentType: string; body: string },
  ): Outcome {
    if (!artifact) return { type: 'ActionSucceeded', data: { attempt: a.attempt, message } };
    const hash = sha256(Buffer.from(artifact.body, 'utf8'));
    return {
      type: 'ActionSucceeded',
      data: { attempt: a.attempt, message, artifact_ref: `${a.id}/${hash}`, artifact_sha256: hash },
      artifact,
    };
  }

  private failure(a: ClaimedAction, e: ActionError): Outcome {
    if (e.kind === 'permanent')
      return { type: 'ActionFailed', data: { attempt: a.attempt, error: e.message } };
    if (a.attempt >= this.config.maxRetries) {
      return {
        type: 'ActionDeadLettered',
        data: {
          attempt: a.attempt,
          error: `${e.message} (attempt ${a.attempt} of ${this.config.maxRetries})`,
        },
      };
    }
    const delay = retryDelaySeconds(
      a.attempt,
      this.config.retryBaseSeconds,
      this.config.retryMaxSeconds,
    );
    return {
      type: 'ActionRetryScheduled',
      data: {
        attempt: a.attempt,
        error: e.message,
        retry_in_seconds: Math.round(delay * 1000) / 1000,
      },
    };
  }

  private async record(
    a: ClaimedAction,
    epoch: number,
    o: Outcome,
    overran: boolean,
  ): Promise<AttemptResult> {
    let stored: Artifact | undefined;
    const written = await this.db.tx(async (c) => {
      const r = await writeOutcome(c, this.worker, epoch, a.id, o.type, o.data);
      if (r === 'ok' && 'artifact' in o && o.artifact)
        stored = await storeArtifact(c, a.id, o.artifact.contentType, o.artifact.body);
      return r;
    });
    if (written === 'fenced') {
      this.log(
        'warn',
        `fenced: epoch ${epoch} no longer holds the lease; ${o.type} for action ${a.id} was rejected (FencedWriteRejected recorded)`,
      );
      return 'fenced';
    }
    if (written === 'stale') {
      this.log('warn', `action ${a.id} was recovered by another worker; ${o.type} not recorded`);
      return 'fenced';
    }
    if (stored && this.config.artifactDir) {
      await mirrorArtifact(this.config.artifactDir, a.id, stored).catch((err) =>
        this.log('warn', `artifact mirror to AOL_ARTIFACT_DIR failed: ${(err as Error).message}`),
      );
    }
    const detail = 'error' in o.data ? `: ${o.data.error}` : '';
    this.log(
      o.type === 'ActionSucceeded' ? 'info' : 'warn',
      `action ${a.id} ${a.action_type} attempt ${a.attempt}: ${o.type}${detail}`,
    );
    if (overran) return 'overran';
    return o.type === 'ActionSucceeded' ? 'success' : 'failed';
  }
}

/** Settle as soon as `signal` aborts, even if the handler ignores it. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
