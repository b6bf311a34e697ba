import { randomBytes } from 'node:crypto';
import { Db } from '../../src/db/db.js';
import type { StoredEvent } from '../../src/events/event.types.js';
import type { CheckResult } from './invariants.js';

/**
 * The runbook-role door (issue 12): control flips and force releases as
 * psql would send them, from a non-superuser LOGIN role granted only
 * aol_operator. The role is cluster-wide, so its name carries a random
 * suffix; it owns nothing and is dropped at the end of the run.
 */
export async function createOperatorRole(
  admin: Db,
  url: string,
): Promise<{ name: string; db: Db; drop: () => Promise<void> }> {
  const name = `aol_chaos_op_${randomBytes(3).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  // identifiers and the password are generated here, not input: no value from outside reaches this SQL
  await admin.query(
    `CREATE ROLE ${name} LOGIN NOSUPERUSER PASSWORD '${password}' IN ROLE aol_operator`,
  );
  const u = new URL(url);
  u.username = name;
  u.password = password;
  const db = new Db(u.toString(), { max: 2, applicationName: 'aol-chaos-operator' });
  return {
    name,
    db,
    drop: async () => {
      await db.close().catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${name}`).catch(() => undefined);
    },
  };
}

/** Every event the operator role caused names it as actor, via sql, and there were some. */
export function checkRunbookRole(
  events:
    | readonly Pick<StoredEvent, 'seq' | 'type' | 'metadata'>[]
    | readonly { seq: number; type: string; metadata: Record<string, unknown> }[],
  role: string,
): CheckResult {
  const mine = events.filter((e) => e.metadata.actor === role);
  const problems = mine
    .filter((e) => e.metadata.via !== 'sql')
    .map((e) => `seq ${e.seq}: ${e.type} by ${role} via ${String(e.metadata.via)}, not sql`);
  if (mine.length === 0) problems.push(`no event carries the operator role ${role} as actor`);
  return {
    name: 'runbook role: events carry the login role',
    ok: problems.length === 0,
    figure: `${mine.length} events by ${role} (aol_operator), all via sql`,
    problems,
  };
}
