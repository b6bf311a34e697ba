import { selectScopedPauses } from '../control/scoped-pause.sql.js';
import { selectEarliestFires } from '../schedules/schedules.sql.js';
import type { Config } from '../config/config.js';
import { Queryable } from '../db/db.js';
import { EventStore } from '../events/event-store.js';
import { parseInstant, replayer, resolveAt } from '../events/replay.js';
import { evaluateHealth, HealthEnv, HealthInputs, HealthReport } from './health.model.js';

type Raw = {
  now: string;
  last_tick: {
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
  };
}

/** The live inputs: one statement of index lookups (aol_health_inputs, migration 0006). */
export async function liveHealthInputs(db: Queryable): Promise<HealthInputs> {
  const { rows } = await db.query<{ h: Raw }>('SELECT aol_health_inputs() AS h');
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
  };
}

export type AolHealth = HealthReport & { at_seq?: number };

/**
 * GET /health/aol: served from the projected read models in O(1); with
 * `at`, replayed from the log as of that seq or time.
 */
/** Free of NestJS, like every service the CLI uses (common/plain-provider.ts). */
export class HealthService {
  constructor(
    private readonly store: EventStore,
    private readonly config: Config,
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
    const seq = await resolveAt(this.store, at);
    const r = await replayer(this.store, seq);
    const now = /^\d+$/.test(at) ? undefined : parseInstant(at, 'at');
    return {
      ...evaluateHealth(r.healthInputs(now), healthEnv(this.config)),
      at_seq: r.state().at_seq,
    };
  }
}
