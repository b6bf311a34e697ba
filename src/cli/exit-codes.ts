/** Exit codes shared by every command (README, "CLI"). */
export const EXIT = {
  ok: 0,
  failed: 1,
  unreachable: 2,
  conflict: 3,
  forbidden: 4,
  notFound: 5,
  usage: 64,
} as const;
