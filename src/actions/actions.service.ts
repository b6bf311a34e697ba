import { randomUUID } from 'node:crypto';
import { Db, Queryable } from '../db/db.js';
import { Config, loadConfig } from '../config/config.js';
import { checkJsonInput } from '../common/input-limits.js';
import { EventStore } from '../events/event-store.js';
import { ActionCommand, decideAction } from './actions.decider.js';
import { Actor, metadataFor } from '../common/actor.js';
import { ConflictError, NotFoundError, ValidationError } from '../common/errors.js';
import { HANDLERS } from './action-registry.js';
import { Artifact, latestArtifact } from './artifacts.js';
import {
  ActionRow,
  ActionView,
  listActions,
  nextActionId,
  selectAction,
  selectActionByKey,
  selectActionsByStatus,
  selectLogs,
  toActionView,
} from './actions.sql.js';

export type EnqueueInput = Readonly<{
  action_type: string;
  payload: unknown;
  idempotency_key?: string;
  not_before?: string;
}>;

/** Validate a payload against its action type's handler; every problem in one ValidationError. */
export async function validateAction(
  type: string,
  payload: unknown,
  config: Config,
): Promise<unknown> {
  const handler = HANDLERS.get(type);
  if (!handler)
    throw new ValidationError(`action_type must be one of ${[...HANDLERS.keys()].join(', ')}`);
  checkJsonInput(payload, 'payload');
  const v = handler.validate(payload, { config });
  if (!v.ok) throw new ValidationError(v.errors.join('; '));
  const refused = await handler.preflight?.(v.value, { config });
  if (refused) throw new ValidationError(refused);
  return v.value;
}

const KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * The operator side of the queue: enqueue (idempotent by key), list, inspect,
 * retry and cancel. Every change is an event on `action:<id>`, appended under
 * the append lock after re-reading the action, so two operators can't both
 * retry the same action.
 */
/** Free of NestJS, like every service the CLI uses (common/plain-provider.ts). */
export class ActionsService {
  constructor(
    private readonly db: Db,
    private readonly config: Config = loadConfig({}),
  ) {}

  async enqueue(
    input: EnqueueInput,
    actor: Actor,
  ): Promise<{ action: ActionView; created: boolean }> {
    if (input.idempotency_key !== undefined && !KEY.test(input.idempotency_key))
      throw new ValidationError(
        'idempotency_key must be 1-200 characters of printable ASCII without spaces',
      );
    const payload = await validateAction(input.action_type, input.payload, this.config);
    const notBefore = input.not_before ? new Date(input.not_before) : undefined;
    const year = notBefore?.getUTCFullYear() ?? 2000;
    if (notBefore && (Number.isNaN(notBefore.getTime()) || year < 1 || year > 9999))
      throw new ValidationError('not_before must be an ISO-8601 time (years 1 to 9999)');
    const key = input.idempotency_key ?? `auto-${randomUUID()}`;
    return this.db.tx(async (c) => {
      await EventStore.lock(c);
      const existing = await selectActionByKey(c, key);
      if (existing) return { action: toActionView(existing), created: false };
      const id = await nextActionId(c);
      const { rows } = await c.query<{ t: Date }>('SELECT clock_timestamp() AS t');
      await EventStore.append(c, [
        {
          stream: `action:${id}`,
          expectedVersion: 0,
          metadata: metadataFor(actor),
          event: {
            type: 'ActionEnqueued',
            data: {
              id,
              idempotency_key: key,
              action_type: input.action_type,
              payload,
              not_before: (notBefore ?? rows[0].t).toISOString(),
            },
          },
        },
      ]);
      return { action: toActionView((await selectAction(c, id))!), created: true };
    });
  }

  async list(status: string | undefined, limit: number, cursor: number | undefined) {
    const rows = await listActions(this.db, status, limit, cursor);
    return {
      actions: rows.map(toActionView),
      next_cursor: rows.length === limit ? rows[rows.length - 1].id : null,
    };
  }

  async get(id: number) {
    const row = await this.mustGet(this.db, id);
    return { ...toActionView(row), logs: await selectLogs(this.db, id) };
  }

  async artifact(id: number): Promise<Artifact> {
    await this.mustGet(this.db, id);
    const a = await latestArtifact(this.db, id);
    if (!a) throw new NotFoundError(`action ${id} has no artifact`);
    return a;
  }

  retry(id: number, actor: Actor, reason?: string): Promise<ActionView> {
    return this.transition(id, 'retry', actor, reason);
  }

  cancel(id: number, actor: Actor, reason?: string): Promise<ActionView> {
    return this.transition(id, 'cancel', actor, reason);
  }

  /** Retry or cancel every DLQ action, in one transaction. */
  async dlq(
    op: 'retry' | 'cancel',
    actor: Actor,
    reason?: string,
  ): Promise<{ count: number; ids: number[] }> {
    return this.db.tx(async (c) => {
      await EventStore.lock(c);
      const rows = await selectActionsByStatus(c, 'DLQ');
      await EventStore.append(
        c,
        rows.map((r) => {
          const d = decideAction(op, r.status);
          if ('refused' in d) throw new ConflictError(`action ${r.id} ${d.refused}`);
          return { stream: `action:${r.id}`, metadata: metadataFor(actor, reason), event: d.event };
        }),
      );
      return { count: rows.length, ids: rows.map((r) => r.id) };
    });
  }

  private async transition(
    id: number,
    command: ActionCommand,
    actor: Actor,
    reason?: string,
  ): Promise<ActionView> {
    return this.db.tx(async (c) => {
      await EventStore.lock(c);
      const row = await this.mustGet(c, id);
      const d = decideAction(command, row.status);
      if ('refused' in d) throw new ConflictError(`action ${id} ${d.refused}`);
      await EventStore.append(c, [
        { stream: `action:${id}`, metadata: metadataFor(actor, reason), event: d.event },
      ]);
      return toActionView((await selectAction(c, id))!);
    });
  }

  private async mustGet(db: Queryable, id: number): Promise<ActionRow> {
    const row = await selectAction(db, id);
    if (!row) throw new NotFoundError(`action ${id} not found`);
    return row;
  }
}
