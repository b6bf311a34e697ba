import { Db } from '../db/db.js';
import { Actor, metadataFor } from '../common/actor.js';
import { ConflictError } from '../common/errors.js';
import { forceReleaseLease, LeaseView, selectLease } from './lease.sql.js';

/** Free of NestJS, like every service the CLI uses (common/plain-provider.ts). */
export class LeaseService {
  constructor(private readonly db: Db) {}

  get(): Promise<LeaseView> {
    return selectLease(this.db);
  }

  /** Force release: the holder stops at once (its next fenced write or renewal fails) and a standby takes over. */
  async forceRelease(
    reason: string,
    actor: Actor,
  ): Promise<{ seq: number; released: { owner: string; epoch: number } }> {
    const e = await this.db.tx((c) => forceReleaseLease(c, metadataFor(actor, reason)));
    if (!e) throw new ConflictError('nobody holds the lease');
    return { seq: e.seq, released: { owner: e.data.owner, epoch: e.data.epoch } };
  }
}
