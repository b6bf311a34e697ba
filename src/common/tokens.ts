/** Injection token for the parsed Config. */
export const CONFIG = Symbol('CONFIG');
