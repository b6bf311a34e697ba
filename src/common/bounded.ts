import { Transform } from 'class-transformer';
import { ValidationError } from './errors.js';

/** PostgreSQL's bigint maximum: the largest seq (or id) a parameter may name. */
export const BIGINT_MAX = 9223372036854775807n;

/**
 * A request parameter as a bounded integer: a plain decimal string (no sign,
 * exponent, fraction or space) from `min` to `max`, else a ValidationError
 * naming the parameter. Values beyond 2^53 are clamped to
 * Number.MAX_SAFE_INTEGER: seqs and ids never get there, so comparisons with
 * them keep their meaning (the bigint maximum itself is an empty page or the
 * head), and nothing out of bigint's range ever reaches SQL.
 */
export function parseBoundedInt(
  raw: unknown,
  name: string,
  opts: { min?: number; max?: bigint } = {},
): number {
  const min = opts.min ?? 0;
  const max = opts.max ?? BIGINT_MAX;
  const problem = `${name} must be an integer from ${min} to ${max}`;
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) raw = String(raw);
  if (typeof raw !== 'string' || !/^\d{1,19}$/.test(raw)) throw new ValidationError(problem);
  const n = BigInt(raw);
  if (n < BigInt(min) || n > max) throw new ValidationError(problem);
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/** DTO field decorator: the query parameter parsed with parseBoundedInt (400 naming it otherwise). */
export const BoundedInt = (name: string, opts: { min?: number; max?: bigint } = {}) =>
  Transform(({ value }: { value: unknown }) =>
    value === undefined ? undefined : parseBoundedInt(value, name, opts),
  );
