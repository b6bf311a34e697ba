import { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { ValidationError } from './errors.js';

/** Deepest nesting a JSON body may have (objects and arrays). */
export const MAX_DEPTH = 32;
/** Most object keys a JSON body may have, counted over the whole body. */
export const MAX_KEYS = 2000;

// A NUL, or a UTF-16 surrogate without its partner: PostgreSQL's jsonb and
// text refuse both, so they must be a 400 at the edge, never a 500 from the append.
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const BAD_CHAR = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function badString(s: string, path: string): void {
  if (BAD_CHAR.test(s))
    throw new ValidationError(`${path} contains a NUL or an unpaired surrogate character`);
}

/**
 * Check a parsed JSON value before anything else looks at it: depth at most
 * MAX_DEPTH, at most MAX_KEYS keys in all, no NUL or unpaired surrogate in
 * any key or string. Iterative (an explicit stack), so a body nested 5,000
 * deep is one 400, not a stack overflow in class-transformer. The error names
 * the first offending field, e.g. `payload.body.note`.
 */
export function checkJsonInput(value: unknown, root: string): void {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: root, depth: 0 }];
  let keys = 0;
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') badString(v, path);
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_DEPTH)
      throw new ValidationError(`${path} is nested deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(v)) {
      v.forEach((x, i) =>
        stack.push({
          v: x,
          path: depth === 0 ? `${root}[${i}]` : `${path}[${i}]`,
          depth: depth + 1,
        }),
      );
      continue;
    }
    for (const [k, x] of Object.entries(v)) {
      if (++keys > MAX_KEYS) throw new ValidationError(`${root} has more than ${MAX_KEYS} keys`);
      badString(k, `${path} key`);
      stack.push({ v: x, path: depth === 0 ? k : `${path}.${k}`, depth: depth + 1 });
    }
  }
}

/**
 * Runs before the ValidationPipe on every body and query: bounded depth and
 * key count, no characters PostgreSQL can't store. Field paths are relative to
 * the body (`reason`, `payload.body.x`).
 */
export class InputLimitsPipe implements PipeTransform {
  transform(value: unknown, meta: ArgumentMetadata): unknown {
    if (meta.type === 'body' || meta.type === 'query') checkJsonInput(value, meta.type);
    else if (meta.type === 'param' && typeof value === 'string')
      badString(value, meta.data ?? 'param');
    return value;
  }
}
