import { selectScopedPauses } from '../control/scoped-pause.sql.js';
import { selectEarliestFires } from '../schedules/schedules.sql.js';
import type { Config } from '../config/config.js';
import { Queryable } from '../db/db.js';
import { selectWorkers } from '../workers/workers.sql.js';
import { toWorkerView } from '../workers/workers.service.js';
import { evaluateHealth, HealthEnv, HealthInputs, HealthReport } from './health.model.js';

type Raw = {
  now: string;
  last_tick: {
    seq: number;
    started_at_utc: string;
    finished_at_utc: string;
    status: string;
    worker: string;
    epoch: number;
    notes: string;
  } | null;
  lease: { owner: string; epoch: number; expires_at_utc: string } | null;
  flags: {
    paused: boolean;
    killed: boolean;
    proof_mode: boolean;
    version: number;
    updated_at_utc: string | null;
  };
  ack: { control_version: number; delay_ms: number | null };
  counts: Record<string, number>;
  last_event_seq: number;
};

export function healthEnv(config: Config): HealthEnv {
  return {
    production: config.production,
    dangerousUiOps: config.dangerousUiOps,
    tokensConfigured: !!config.apiTokens,
    checkpointsSigned: !!config.signingKey,
    expectStandby: config.expectStandby,
  };
}

/**
 * The live inputs: one statement of index lookups (aol_health_inputs, migration
 * 0006), and beside it the presence rows (aol_worker_presence, migration 0016;
 * at most a day's worth of worker processes).
 */
export async function liveHealthInputs(db: Queryable): Promise<HealthInputs> {
  const [{ rows }, presence] = await Promise.all([
    db.query<{ h: Raw }>('SELECT aol_health_inputs() AS h'),
    selectWorkers(db),
  ]);
  const h = rows[0].h;
  const iso = (t: string) => new Date(t).toISOString();
  return {
    now: new Date(h.now),
    lastTick: h.last_tick && {
      started_at: iso(h.last_tick.started_at_utc),
      finished_at: iso(h.last_tick.finished_at_utc),
      status: h.last_tick.status,
      worker: h.last_tick.worker,
      epoch: h.last_tick.epoch,
      notes: h.last_tick.notes,
    },
    lease: h.lease && {
      owner: h.lease.owner,
      epoch: h.lease.epoch,
      expires_at: iso(h.lease.expires_at_utc),
    },
    flags: {
      paused: h.flags.paused,
      killed: h.flags.killed,
      proof_mode: h.flags.proof_mode,
      version: h.flags.version,
    },
    ackVersion: h.ack.control_version,
    ackDelayMs: h.ack.delay_ms,
    counts: h.counts,
    lastEventSeq: h.last_event_seq,
    controlChangedAt: h.flags.updated_at_utc && iso(h.flags.updated_at_utc),
    workers: presence.map(toWorkerView),
  };
}

export type AolHealth = HealthReport & { at_seq?: number };

/**
 * Health's inputs as of `at` (a seq or an instant), replayed from the log:
 * src/history/health-at.ts folds from the nearest snapshot. Passed in, so
 * health (below history in the layers) does not import it.
 */
export type HealthInputsAt = (at: string) => Promise<{ inputs: HealthInputs; atSeq: number }>;

/**
 * GET /health/aol: served from the projected read models in O(1); with
 * `at`, replayed from the log as of that seq or time (HealthInputsAt).
 */
/** Free of NestJS, like every service the CLI uses (common/plain-provider.ts). */
export class HealthService {
  constructor(
    private readonly config: Config,
    private readonly inputsAt: HealthInputsAt,
  ) {}

  async live(db: Queryable): Promise<AolHealth> {
    const inputs = {
      ...(await liveHealthInputs(db)),
      scopedPauses: await selectScopedPauses(db),
      scheduleFires: await selectEarliestFires(db),
    };
    return evaluateHealth(inputs, healthEnv(this.config));
  }

  async at(at: string): Promise<AolHealth> {
    const { inputs, atSeq } = await this.inputsAt(at);
    return { ...evaluateHealth(inputs, healthEnv(this.config)), at_seq: atSeq };
  }
}
