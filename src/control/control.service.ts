import { randomUUID } from 'node:crypto';
import { Config } from '../config/config.js';
import { Db, Queryable } from '../db/db.js';
import { EventStore } from '../events/event-store.js';
import { ControlEvent } from '../events/event.types.js';
import { ConcurrencyError, DomainError, NotFoundError, ValidationError } from '../common/errors.js';
import { Actor, metadataFor } from '../common/actor.js';
import { ControlChange, decideControl } from './control.decider.js';
import { decideApproval, decideProofOffRequest } from './proof-approval.decider.js';
import {
  ControlRow,
  selectControl,
  selectNow,
  selectPendingRequest,
  selectProofRequest,
  toControlState,
} from './control.sql.js';
import { decideScopedPause, ScopedPauseRequest } from './scoped-pause.js';
import { ScopedPause, selectScopedPause } from './scoped-pause.sql.js';

export type PendingRequest = Readonly<{
  request_id: string;
  requested_by: string;
  reason: string | null;
  requested_at: string;
  expires_at: string;
}>;

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
  pending_request: PendingRequest | null;
  /** Active scoped pauses (aol_scoped_pauses); the global pause is `paused`. */
  scoped_pauses: ScopedPause[];
}>;

export type ControlResult = ControlView &
  Readonly<{
    seq: number | null;
    changed: boolean;
    message: string;
    request_id?: string;
    expires_at?: string;
    accepted?: boolean;
    pause_id?: string;
  }>;

export function toControlView(r: ControlRow): ControlView {
  const iso = (t: string) => new Date(t).toISOString();
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
    pending_request: r.pending && {
      ...r.pending,
      requested_at: iso(r.pending.requested_at),
      expires_at: iso(r.pending.expires_at),
    },
    scoped_pauses: r.scoped ?? [],
  };
}

/**
 * Applies control changes: in one transaction it takes the append lock, loads
 * the flags, lets the decider choose the events, appends them (projection and
 * NOTIFY happen inside the append) and reads the result back. In production
 * turning proof mode off is a four-eyes request (proof-approval.decider.ts).
 * Free of NestJS, like every service the CLI uses (common/plain-provider.ts).
 */
export class ControlService {
  constructor(
    private readonly db: Db,
    private readonly config: Pick<Config, 'production'>,
  ) {}

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
      if (change === 'proof-off' && this.config.production)
        return this.requestProofOff(client, before, reason, actor);
      const decision = decideControl(change, toControlState(before));
      const seq = await this.append(client, decision.events, actor, reason);
      return {
        ...toControlView(await selectControl(client)),
        seq,
        changed: seq !== null,
        message: decision.noChange ?? `${decision.events.map((e) => e.type).join(', ')} recorded`,
      };
    });
  }

  /**
   * A scoped pause (some action types, or all, optionally until a deadline on
   * the database clock); the global pause is untouched. The claim ends it at
   * its deadline with ScopedPauseEnded {expired: true}.
   */
  async pauseScoped(
    req: ScopedPauseRequest,
    reason: string,
    actor: Actor,
    ifMatch?: number,
  ): Promise<ControlResult> {
    return this.db.tx(async (client) => {
      await EventStore.lock(client);
      const before = await selectControl(client);
      if (ifMatch !== undefined && ifMatch !== before.version)
        throw new ConcurrencyError(
          `control flags are at version ${before.version}, If-Match was ${ifMatch}`,
        );
      const d = decideScopedPause(req, await selectNow(client));
      if ('errors' in d) throw new ValidationError(d.errors.join('; '));
      const seq = await this.append(client, [d.event], actor, reason);
      const data = d.event.data;
      const what = data.action_types?.join(', ') ?? 'all action types';
      return {
        ...toControlView(await selectControl(client)),
        seq,
        changed: true,
        pause_id: data.pause_id,
        message: `ScopedPauseStarted recorded: ${what} paused ${data.until ? `until ${data.until}` : 'until resumed'} (pause ${data.pause_id})`,
      };
    });
  }

  /** End a scoped pause before its deadline. */
  async resumeScoped(pauseId: string, reason: string, actor: Actor): Promise<ControlResult> {
    return this.db.tx(async (client) => {
      await EventStore.lock(client);
      const p = await selectScopedPause(client, pauseId);
      if (!p) throw new NotFoundError(`no scoped pause ${pauseId}`);
      const seq = p.ended
        ? null
        : await this.append(
            client,
            [{ type: 'ScopedPauseEnded', data: { pause_id: pauseId, expired: false } }],
            actor,
            reason,
          );
      return {
        ...toControlView(await selectControl(client)),
        seq,
        changed: seq !== null,
        pause_id: pauseId,
        message:
          seq === null ? `scoped pause ${pauseId} has already ended` : 'ScopedPauseEnded recorded',
      };
    });
  }

  /** The second admin's approval; the approver is the event's actor, the requester is in its data. */
  async approve(requestId: string, actor: Actor, reason?: string): Promise<ControlResult> {
    const outcome = await this.db.tx(async (client) => {
      await EventStore.lock(client);
      const flags = await selectControl(client);
      const decision = decideApproval(
        await selectProofRequest(client, requestId),
        actor.name,
        flags.proof_mode,
        await selectNow(client),
      );
      const seq = await this.append(
        client,
        decision.events,
        actor,
        reason ?? `approve proof-off request ${requestId}`,
      );
      // A refusal still commits what it recorded (an expiry), then answers with its status.
      if (decision.kind === 'refused') return { refused: decision };
      return {
        result: {
          ...toControlView(await selectControl(client)),
          seq,
          changed: true,
          message: 'ProofModeDisableApproved, ProofModeDisabled recorded',
        },
      };
    });
    if ('refused' in outcome)
      throw new DomainError(outcome.refused!.message, outcome.refused!.status);
    return outcome.result!;
  }

  private async requestProofOff(
    client: Queryable,
    before: ControlRow,
    reason: string,
    actor: Actor,
  ): Promise<ControlResult> {
    const d = decideProofOffRequest(
      before.proof_mode,
      await selectPendingRequest(client),
      actor.name,
      await selectNow(client),
      randomUUID(),
    );
    if (d.kind === 'no-change')
      return { ...toControlView(before), seq: null, changed: false, message: d.message };
    const seq = await this.append(client, d.events, actor, reason);
    return {
      ...toControlView(await selectControl(client)),
      seq,
      changed: false,
      accepted: true,
      request_id: d.request.request_id,
      expires_at: d.request.expires_at.toISOString(),
      message: `proof-off needs a second admin: approve request ${d.request.request_id} before ${d.request.expires_at.toISOString()}`,
    };
  }

  private async append(
    client: Queryable,
    events: ControlEvent[],
    actor: Actor,
    reason: string,
  ): Promise<number | null> {
    const appended = await EventStore.append(
      client,
      events.map((event) => ({ stream: 'control', event, metadata: metadataFor(actor, reason) })),
    );
    return appended.at(-1)?.seq ?? null;
  }
}
