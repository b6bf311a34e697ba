import { ConcurrencyError, DomainError, ForbiddenError } from '../common/errors.js';

/** Map the SQLSTATEs the database functions raise (aol_append, the guards, the roles) to domain errors. */
export function mapDbError(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  if (e.code === 'AOL09') return new ConcurrencyError(e.message ?? 'version conflict');
  if (e.code === 'AOL01') return new DomainError(e.message ?? 'refused', 409);
  if (e.code === 'AOL03' || e.code === '42501') return new ForbiddenError(e.message ?? 'forbidden');
  return err;
}
