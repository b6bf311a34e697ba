import { Injectable } from '@nestjs/common';
import { Db } from '../db/db.js';
import { EventStore } from '../events/event-store.js';
import { ConcurrencyError } from '../common/errors.js';
import { Actor, metadataFor } from '../common/actor.js';
import { ControlChange, decideControl } from './control.decider.js';
import { ControlRow, selectControl, toControlState } from './control.sql.js';

export type ControlView = Readonly<{
  paused: boolean;
  killed: boolean;
  proof_mode: boolean;
  version: number;
  updated_at_utc: string | null;
  acknowledged: boolean;
  acknowledgment: {
    control_version: number;
    worker: string | null;
    delay_ms: number | null;
    at: string | null;
  } | null;
  pending_request: null;
}>;

export type ControlResult = ControlView &
  Readonly<{ seq: number | null; changed: boolean; message: string }>;

export function toControlView(r: ControlRow): ControlView {
  return {
    paused: r.paused,
    killed: r.killed,
    proof_mode: r.proof_mode,
    version: r.version,
    updated_at_utc: r.updated_at_utc?.toISOString() ?? null,
    acknowledged: r.ack_version >= r.version,
    acknowledgment:
      r.ack_version > 0
        ? {
            control_version: r.ack_version,
            worker: r.ack_worker,
            delay_ms: r.ack_delay_ms,
            at: r.ack_at?.toISOString() ?? null,
          }
        : null,
    pending_request: null,
  };
}

/**
 * Applies control changes: in one transaction it takes the append lock, loads
 * the flags, lets the decider choose the events, appends them (projection and
 * NOTIFY happen inside the append) and reads the result back.
 */
@Injectable()
export class ControlService {
  constructor(private readonly db: Db) {}

  async get(): Promise<ControlView> {
    return toControlView(await selectControl(this.db));
  }

  async change(
    change: ControlChange,
    reason: string,
    actor: Actor,
    ifMatch?: number,
  ): Promise<ControlResult> {
    return this.db.tx(async (client) => {
      await EventStore.lock(client);
      const before = await selectControl(client);
      if (ifMatch !== undefined && ifMatch !== before.version) {
        throw new ConcurrencyError(
          `control flags are at version ${before.version}, If-Match was ${ifMatch}`,
        );
      }
      const decision = decideControl(change, toControlState(before));
      const appended = await EventStore.append(
        client,
        decision.events.map((event) => ({
          stream: 'control',
          event,
          metadata: metadataFor(actor, reason),
        })),
      );
      const after = await selectControl(client);
      return {
        ...toControlView(after),
        seq: appended.at(-1)?.seq ?? null,
        changed: appended.length > 0,
        message: decision.noChange ?? `${appended.map((e) => e.type).join(', ')} recorded`,
      };
    });
  }
}
