/** A bad setting (environment variable); the CLI exits 2, the server does not start. */
export class ConfigError extends Error {}

/**
 * Domain errors, mapped once to HTTP statuses (http/error.filter.ts) and to
 * CLI exit codes (cli/program.ts).
 */
export class DomainError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
export class ValidationError extends DomainError {
  constructor(message: string) {
    super(message, 400);
  }
}
export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super(message, 403);
  }
}
export class NotFoundError extends DomainError {
  constructor(message: string) {
    super(message, 404);
  }
}
/** A write that conflicts with the current state: stale version, wrong status. */
export class ConflictError extends DomainError {
  constructor(message: string) {
    super(message, 409);
  }
}
export class ConcurrencyError extends ConflictError {}
