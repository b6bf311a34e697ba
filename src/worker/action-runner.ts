import { Config } from '../config/config.js';
import { Db, Queryable } from '../db/db.js';
import { HANDLERS } from '../actions/action-registry.js';
import { ActionError, toActionError } from '../actions/action-error.js';
import { AttemptOutcome, AttemptResult, decideAttempt } from '../actions/actions.decider.js';
import { Artifact, mirrorArtifact, sha256, storeArtifact } from '../actions/artifacts.js';
import { ClaimedAction, OutcomeWrite, recordAndClaim } from './worker.sql.js';

export type RecordedAttempt = 'success' | 'failed' | 'overran' | 'fenced';

type Logger = (level: 'info' | 'warn' | 'error', msg: string) => void;

/** An attempt that has run and whose outcome is not yet recorded. */
export type Attempt = Readonly<{
  action: ClaimedAction;
  outcome: AttemptOutcome;
  overran: boolean;
}>;

/**
 * Runs claimed attempts and records their outcomes behind the fence.
 *
 * Proof mode renders the exact request and stops at the transport boundary:
 * the artifact is stored in PostgreSQL with its SHA-256 (and mirrored to
 * AOL_ARTIFACT_DIR). Real mode sends it through the handler. An attempt is
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

  async execute(a: ClaimedAction, leaseSignal: AbortSignal, budgetMs: number): Promise<Attempt> {
    const handler = HANDLERS.get(a.action_type);
    const ctx = { actionId: a.id, idempotencyKey: a.idempotency_key, config: this.config };
    const budget = new AbortController();
    const why = `exceeded the tick budget (AOL_MAX_TICK_SECONDS=${this.config.maxTickSeconds})`;
    const timer = setTimeout(() => budget.abort(new Error(why)), Math.max(1, budgetMs));
    const signal = AbortSignal.any([leaseSignal, budget.signal]);
    try {
      if (!handler)
        throw new ActionError('permanent', `invalid data: unknown action type ${a.action_type}`);
      const valid = handler.validate(a.payload, { config: this.config });
      if (!valid.ok) throw new ActionError('permanent', `invalid data: ${valid.errors.join('; ')}`);
      if (a.proof_mode) {
        const body = JSON.stringify(handler.render(valid.value, ctx), null, 2);
        return {
          action: a,
          overran: false,
          outcome: this.success(a, 'proof mode: request rendered and stored, not sent', {
            contentType: 'application/json',
            body,
          }),
        };
      }
      const r = await raceAbort(handler.execute(valid.value, { ...ctx, signal }), signal);
      return { action: a, overran: false, outcome: this.success(a, r.message, r.output) };
    } catch (err) {
      const overran = budget.signal.aborted && !leaseSignal.aborted;
      return { action: a, overran, outcome: this.failure(a, toActionError(err, signal)) };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Record a batch of outcomes, each fenced, with their proof artifacts in the
   * same transaction, and claim up to `limit` more in the same statement
   * (aol_record_and_claim; 0: record only). Without artifacts that statement
   * is the whole transaction (atomic on its own), so it skips the BEGIN/COMMIT
   * round trips. `claimed` is null when the fence refused.
   */
  async recordAndClaim(
    epoch: number,
    attempts: readonly Attempt[],
    limit: number,
  ): Promise<{ results: RecordedAttempt[]; claimed: ClaimedAction[] | null }> {
    const items = attempts.map((x) => ({
      id: x.action.id,
      type: x.outcome.type,
      data: x.outcome.data,
    }));
    const stored = new Map<number, Artifact>();
    const artifacts = attempts.flatMap((x) =>
      'artifact' in x.outcome && x.outcome.artifact
        ? [{ id: x.action.id, ...x.outcome.artifact }]
        : [],
    );
    const write = (db: Queryable) =>
      recordAndClaim(db, this.worker, epoch, items, limit, this.config.proofMode);
    const r =
      artifacts.length === 0
        ? await write(this.db)
        : await this.db.tx(async (c) => {
            const w = await write(c);
            for (const a of artifacts)
              if (w.written.get(a.id) === 'ok')
                stored.set(a.id, await storeArtifact(c, a.id, a.contentType, a.body));
            return w;
          });
    const results: RecordedAttempt[] = [];
    for (const x of attempts)
      results.push(
        await this.report(epoch, x, r.written.get(x.action.id) ?? 'stale', stored.get(x.action.id)),
      );
    return { results, claimed: r.fenced ? null : r.claimed };
  }

  private async report(
    epoch: number,
    x: Attempt,
    written: OutcomeWrite,
    stored: Artifact | undefined,
  ): Promise<RecordedAttempt> {
    const { action: a, outcome: o } = x;
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
    if (x.overran) return 'overran';
    return o.type === 'ActionSucceeded' ? 'success' : 'failed';
  }

  private success(
    a: ClaimedAction,
    message: string,
    artifact?: { contentType: string; body: string },
  ): AttemptOutcome {
    const sha = artifact && sha256(Buffer.from(artifact.body, 'utf8'));
    return this.decide(a, {
      ok: true,
      message,
      ...(artifact && sha ? { artifact: { ...artifact, sha256: sha } } : {}),
    });
  }

  private failure(a: ClaimedAction, error: ActionError): AttemptOutcome {
    // the receiver's words go to the execution log line (migration 0013), never to last_error
    return this.decide(a, { ok: false, error });
  }

  private decide(a: ClaimedAction, result: AttemptResult): AttemptOutcome {
    return decideAttempt(a.id, a.attempt, result, {
      maxRetries: this.config.maxRetries,
      baseSeconds: this.config.retryBaseSeconds,
      maxSeconds: this.config.retryMaxSeconds,
    });
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

/** Run `fn` over `items` with at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(lanes);
  return out;
}
