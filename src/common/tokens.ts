/** Injection token for the parsed Config. */
export const CONFIG = Symbol('CONFIG');
/** Injection token for the health probes' own small pool (api.ts): /health tells the truth when the main pool is saturated. */
export const HEALTH_DB = Symbol('HEALTH_DB');
