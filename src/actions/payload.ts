/**
 * Tiny payload checks for the action handlers: each returns the field's value
 * or records a message. Validation happens at enqueue, so a bad payload is a
 * 400 there and never a failure later.
 */
export class PayloadReader {
  readonly errors: string[] = [];
  private readonly obj: Record<string, unknown>;

  constructor(
    payload: unknown,
    private readonly known: readonly string[],
  ) {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      this.errors.push('payload must be a JSON object');
      this.obj = {};
      return;
    }
    this.obj = payload as Record<string, unknown>;
    for (const k of Object.keys(this.obj)) {
      if (!known.includes(k))
        this.errors.push(`payload.${k} is not a known field (expected: ${known.join(', ')})`);
    }
  }

  str(
    name: string,
    opts: { required?: boolean; max?: number; pattern?: RegExp; patternMessage?: string } = {},
  ): string | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) {
      if (opts.required !== false) this.errors.push(`payload.${name} is required`);
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') {
      this.errors.push(`payload.${name} must be a non-empty string`);
      return undefined;
    }
    if (opts.max !== undefined && v.length > opts.max)
      this.errors.push(`payload.${name} must be at most ${opts.max} characters`);
    if (opts.pattern && !opts.pattern.test(v))
      this.errors.push(opts.patternMessage ?? `payload.${name} is malformed`);
    return v;
  }

  int(name: string, opts: { min: number; max: number }): number | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < opts.min || v > opts.max) {
      this.errors.push(`payload.${name} must be an integer from ${opts.min} to ${opts.max}`);
      return undefined;
    }
    return v;
  }

  stringMap(name: string): Record<string, string> | undefined {
    const v = this.obj[name];
    if (v === undefined || v === null) return undefined;
    if (
      typeof v !== 'object' ||
      Array.isArray(v) ||
      Object.values(v).some((x) => typeof x !== 'string')
    ) {
      this.errors.push(`payload.${name} must be an object of string values`);
      return undefined;
    }
    return v as Record<string, string>;
  }

  raw(name: string): unknown {
    return this.obj[name];
  }
}

export type Validation<P> = { ok: true; value: P } | { ok: false; errors: string[] };

export function result<P>(r: PayloadReader, value: () => P): Validation<P> {
  return r.errors.length > 0 ? { ok: false, errors: r.errors } : { ok: true, value: value() };
}
