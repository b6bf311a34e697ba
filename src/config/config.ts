import { redactQuery } from '../common/redact.js';

/**
 * Configuration, parsed and validated once at start-up (SPEC section 7). A bad
 * value stops the process with a message naming the variable; nothing else in
 * the code reads process.env.
 */
export type Config = Readonly<{
  databaseUrl: string | undefined;
  port: number;
  production: boolean;
  dbStartupRetrySecs: number;
  tickIntervalSeconds: number;
  maxActionsPerTick: number;
  /** Actions claimed per claim statement (throughput setting; 1 = pause/kill act between any two actions). */
  claimBatchSize: number;
  /** Attempts of a claimed batch run at once (throughput setting). */
  workerConcurrency: number;
  maxTickSeconds: number;
  maxRetries: number;
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  proofMode: boolean;
  leaseTtlSeconds: number;
  artifactDir: string | undefined;
  apiTokens: string | undefined;
  corsOrigins: string[];
  backendUrl: string | undefined;
  dangerousUiOps: boolean;
  openaiApiKey: string | undefined;
  openaiBaseUrl: string | undefined;
  smtpUrl: string | undefined;
  /** Header names whose values must be secret references, lower case (defaults + AOL_CREDENTIAL_HEADERS). */
  credentialHeaders: readonly string[];
  /** Hosts a production webhook may call even if they resolve to a private address. */
  webhookAllowHosts: readonly string[];
  /** AOL_SECRET_<NAME> values by NAME, for `{"$secret": "NAME"}` references (never logged). */
  secrets: ReadonlyMap<string, string>;
}>;

/** Credential headers whose literal values are refused at enqueue; AOL_CREDENTIAL_HEADERS adds more. */
export const DEFAULT_CREDENTIAL_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
];

const list = (env: Env, name: string): string[] =>
  (text(env, name) ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

export class ConfigError extends Error {}

type Env = Readonly<Record<string, string | undefined>>;

function text(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function num(
  env: Env,
  name: string,
  fallback: number,
  opts: { min: number; int?: boolean },
): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < opts.min || (opts.int && !Number.isInteger(n))) {
    const kind = opts.int ? 'an integer' : 'a number';
    throw new ConfigError(`${name} must be ${kind} >= ${opts.min}, got "${raw}"`);
  }
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true/false (or 1/0), got "${raw}"`);
}

export function loadConfig(env: Env = process.env): Config {
  const production = text(env, 'NODE_ENV') === 'production';
  const databaseUrl = text(env, 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  return {
    databaseUrl,
    port: num(env, 'PORT', 8000, { min: 0, int: true }),
    production,
    dbStartupRetrySecs: num(env, 'DB_STARTUP_RETRY_SECS', 30, { min: 0 }),
    tickIntervalSeconds: num(env, 'AOL_TICK_INTERVAL_SECONDS', 30, { min: 0.01 }),
    maxActionsPerTick: num(env, 'AOL_MAX_ACTIONS_PER_TICK', 3, { min: 1, int: true }),
    claimBatchSize: num(env, 'AOL_CLAIM_BATCH_SIZE', 1, { min: 1, int: true }),
    workerConcurrency: num(env, 'AOL_WORKER_CONCURRENCY', 1, { min: 1, int: true }),
    maxTickSeconds: num(env, 'AOL_MAX_TICK_SECONDS', 20, { min: 0.01 }),
    maxRetries: num(env, 'AOL_MAX_RETRIES', 3, { min: 1, int: true }),
    retryBaseSeconds: num(env, 'AOL_RETRY_BASE_SECONDS', 5, { min: 0 }),
    retryMaxSeconds: num(env, 'AOL_RETRY_MAX_SECONDS', 300, { min: 0 }),
    proofMode: bool(env, 'AOL_PROOF_MODE', true),
    leaseTtlSeconds: num(env, 'AOL_LEASE_TTL_SECONDS', 30, { min: 0.3 }),
    artifactDir: text(env, 'AOL_ARTIFACT_DIR'),
    apiTokens: text(env, 'AOL_API_TOKENS'),
    corsOrigins: (text(env, 'AOL_CORS_ORIGINS') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    backendUrl: text(env, 'AICMO_BACKEND_URL'),
    dangerousUiOps: bool(env, 'AICMO_ENABLE_DANGEROUS_UI_OPS', false),
    openaiApiKey: text(env, 'OPENAI_API_KEY'),
    openaiBaseUrl: text(env, 'OPENAI_BASE_URL'),
    smtpUrl: text(env, 'SMTP_URL'),
    credentialHeaders: [
      ...new Set([...DEFAULT_CREDENTIAL_HEADERS, ...list(env, 'AOL_CREDENTIAL_HEADERS')]),
    ],
    webhookAllowHosts: list(env, 'AOL_WEBHOOK_ALLOW_HOSTS'),
    secrets: new Map(
      Object.entries(env)
        .filter(([k, v]) => k.startsWith('AOL_SECRET_') && k.length > 11 && v !== undefined)
        .map(([k, v]) => [k.slice(11), v!]),
    ),
  };
}

/** The database URL with its password replaced, for logs and CLI output. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return redactQuery(u.toString());
  } catch {
    return '<unparseable database URL>';
  }
}
