import { ActionError } from './action-error.js';

/** A payload names a secret instead of carrying it: `{"$secret": "PARTNER_TOKEN"}`. */
export type SecretRef = Readonly<{ $secret: string }>;

export const SECRET_UNRESOLVED = 'SECRET_UNRESOLVED';
export const SECRET_ENV_PREFIX = 'AOL_SECRET_';
const NAME = /^[A-Z][A-Z0-9_]{0,63}$/;

export function isSecretRef(v: unknown): v is SecretRef {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.keys(v).length === 1 &&
    typeof (v as { $secret?: unknown }).$secret === 'string'
  );
}

/** A problem with a reference's name, or undefined when it is well formed. */
export function secretRefProblem(v: SecretRef, field: string): string | undefined {
  return NAME.test(v.$secret)
    ? undefined
    : `${field}: $secret must name a secret in upper case (A-Z, 0-9, _), e.g. {"$secret": "PARTNER_TOKEN"}`;
}

/**
 * The value of a reference, read at execution time from the secrets the
 * worker was started with (AOL_SECRET_<NAME>). A missing one fails the action
 * permanently with SECRET_UNRESOLVED: retrying can't make it appear.
 */
export function resolveSecret(ref: SecretRef, secrets: ReadonlyMap<string, string>): string {
  const value = secrets.get(ref.$secret);
  if (value === undefined)
    throw new ActionError(
      'permanent',
      `${SECRET_UNRESOLVED}: ${SECRET_ENV_PREFIX}${ref.$secret} is not set in the worker's environment`,
    );
  return value;
}

/** Text with every resolved secret value replaced, e.g. a receiver echoing our Authorization back. */
export function scrubSecrets(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values) if (v.length >= 4) out = out.split(v).join('***');
  return out;
}
