/** A database error without anything secret in it (no URL, no password). */
export function dbReason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  if (e.code === '57P01' || e.code === '57P03') return 'database is shutting down or starting up';
  const msg = e.message ?? 'unknown error';
  return msg.replace(/postgres(ql)?:\/\/\S+/g, '<database url>');
}
