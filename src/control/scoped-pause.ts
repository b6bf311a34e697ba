import { randomUUID } from 'node:crypto';
import { ControlEvent } from '../events/event.types.js';
import { ACTION_TYPES } from '../actions/action-registry.js';
export type { ScopedPause } from './scoped-pause.sql.js';

export type ScopedPauseRequest = Readonly<{
  actionTypes?: readonly string[];
  /** An absolute deadline, or … */
  until?: Date;
  /** … one this many seconds from now on the database clock (the CLI's --for). */
  forSeconds?: number;
}>;

/**
 * The pure decision for a scoped pause: the checks a request must pass and the
 * event it records, given the database clock. `null` types: every type.
 */
export function decideScopedPause(
  req: ScopedPauseRequest,
  now: Date,
  pauseId: string = randomUUID(),
): { errors: string[] } | { event: Extract<ControlEvent, { type: 'ScopedPauseStarted' }> } {
  const errors: string[] = [];
  const types = req.actionTypes ? [...new Set(req.actionTypes)] : null;
  for (const t of types ?? [])
    if (!ACTION_TYPES.includes(t))
      errors.push(`action_types: ${t} is not an action type (one of ${ACTION_TYPES.join(', ')})`);
  if (types && types.length === 0) errors.push('action_types must name at least one action type');
  if (req.until && req.forSeconds !== undefined) errors.push('give until or a duration, not both');
  const until =
    req.forSeconds !== undefined ? new Date(now.getTime() + req.forSeconds * 1000) : req.until;
  if (req.forSeconds !== undefined && !(req.forSeconds > 0))
    errors.push('the duration must be positive');
  else if (until && until.getTime() <= now.getTime())
    errors.push(`until must be in the future (database time is ${now.toISOString()})`);
  if (errors.length > 0) return { errors };
  return {
    event: {
      type: 'ScopedPauseStarted',
      data: { pause_id: pauseId, action_types: types, until: until?.toISOString() ?? null },
    },
  };
}

/** `30m`, `2h`, `90s`, `1d`, `1h30m` → seconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (!m || text.trim() === '') return undefined;
  const [d, h, min, s] = m.slice(1).map((x) => Number(x ?? 0));
  const total = d * 86400 + h * 3600 + min * 60 + s;
  return total > 0 ? total : undefined;
}
