import type { ScopedPause } from '../control/scoped-pause.sql.js';
import type { Config } from '../config/config.js';
import { Queryable } from '../db/db.js';
import type { WorkerRow } from '../workers/workers.sql.js';
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
  /** aol_worker_presence() rows as JSON: the times are strings. */
  workers: (Omit<WorkerRow, 'started_at_utc' | 'seen_at_utc' | 'left_at_utc' | 'now'> & {
    started_at_utc: string;
    seen_at_utc: string;
    left_at_utc: string | null;
    now: string;
  })[];
  scoped_pauses: ScopedPause[];
  schedule_fires: { schedule_id: string; next_fire: string }[];
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
 * The live inputs: one statement of index lookups (aol_health_inputs,
 * sql/functions/health.sql), with the presence rows (at most 200), the active
 * scoped pauses and the earliest schedule fires in it: one round trip. A
 * named statement, so each connection parses it once.
 */
const HEALTH_INPUTS = { name: 'aol_health_inputs', text: 'SELECT aol_health_inputs() AS h' };

export async function liveHealthInputs(db: Queryable): Promise<HealthInputs> {
  const { rows } = await db.query<{ h: Raw }>({ ...HEALTH_INPUTS });
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
    scopedPauses: h.scoped_pauses,
    workers: h.workers.map((w) =>
      toWorkerView({
        ...w,
        started_at_utc: new Date(w.started_at_utc),
        seen_at_utc: new Date(w.seen_at_utc),
        left_at_utc: w.left_at_utc === null ? null : new Date(w.left_at_utc),
        now: new Date(w.now),
      }),
    ),
    scheduleFires: h.schedule_fires,
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
    return evaluateHealth(await liveHealthInputs(db), healthEnv(this.config));
  }

  async at(at: string): Promise<AolHealth> {
    const { inputs, atSeq } = await this.inputsAt(at);
    return { ...evaluateHealth(inputs, healthEnv(this.config)), at_seq: atSeq };
  }
}
