import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from '../src/common/paths.js';
import { FUNCTION_AREAS } from '../src/db/migrator.js';

/**
 * One current definition per function, trigger and view (issue 14): they live
 * in sql/functions/<area>.sql; the migrations hold tables and data changes.
 * A migration may still carry a `-- BEGIN FUNCTIONS <area>` … `-- END
 * FUNCTIONS <area>` block until the integrator moves it (sql/functions/README.md),
 * but no object may be defined twice anywhere.
 */
const DEFINITION =
  /\bCREATE\s+(?:OR\s+REPLACE\s+)?(FUNCTION|TRIGGER|VIEW)\s+(?:public\.)?("?[a-z0-9_]+"?)/gi;
const BLOCK = /^-- BEGIN FUNCTIONS ([a-z0-9_-]+)[ \t]*\r?\n[\s\S]*?^-- END FUNCTIONS \1[ \t]*$/gm;

type Definition = Readonly<{ kind: string; name: string; file: string; line: number }>;

/** Every CREATE [OR REPLACE] FUNCTION/TRIGGER/VIEW in a text, outside `--` comments. */
export function definitions(text: string, file: string): Definition[] {
  const code = text.replace(/--[^\n]*/g, (c) => ' '.repeat(c.length));
  return [...code.matchAll(DEFINITION)].map((m) => ({
    kind: m[1].toUpperCase(),
    name: m[2].replace(/"/g, '').toLowerCase(),
    file,
    line: code.slice(0, m.index).split('\n').length,
  }));
}

/** Objects defined more than once: `kind name: file:line, file:line`. */
export function duplicates(defs: readonly Definition[]): string[] {
  const by = new Map<string, Definition[]>();
  for (const d of defs) {
    const key = `${d.kind} ${d.name}`;
    by.set(key, [...(by.get(key) ?? []), d]);
  }
  return [...by]
    .filter(([, ds]) => ds.length > 1)
    .map(([key, ds]) => `${key}: ${ds.map((d) => `${d.file}:${d.line}`).join(', ')}`);
}

function sqlFiles(): { file: string; text: string }[] {
  const root = packageRoot();
  const dirs = [join(root, 'migrations'), join(root, 'sql', 'functions')];
  return dirs.flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((f) => ({
        file: relative(root, join(dir, f)),
        text: readFileSync(join(dir, f), 'utf8'),
      })),
  );
}

describe('SQL definitions', () => {
  it('finds a duplicate, and only a duplicate (given two bodies of one function and a trigger)', () => {
    const a = `CREATE FUNCTION aol_demo(p integer) RETURNS void LANGUAGE sql AS $$ SELECT 1 $$;
-- CREATE OR REPLACE FUNCTION aol_demo() in a comment is not a definition
CREATE TRIGGER aol_t AFTER INSERT ON aol_x FOR EACH ROW EXECUTE FUNCTION aol_g();`;
    const b = `CREATE OR REPLACE FUNCTION public.aol_demo(p integer) RETURNS void LANGUAGE sql AS $$ SELECT 2 $$;
CREATE OR REPLACE VIEW aol_v AS SELECT 1;`;
    const defs = [...definitions(a, 'a.sql'), ...definitions(b, 'b.sql')];
    expect(defs.map((d) => `${d.kind} ${d.name}`)).toEqual([
      'FUNCTION aol_demo',
      'TRIGGER aol_t',
      'FUNCTION aol_demo',
      'VIEW aol_v',
    ]);
    expect(duplicates(defs)).toEqual(['FUNCTION aol_demo: a.sql:1, b.sql:1']);
  });

  it('defines every function, trigger and view once in migrations/ and sql/functions/', () => {
    const defs = sqlFiles().flatMap((f) => definitions(f.text, f.file));
    expect(defs.length).toBeGreaterThan(70);
    expect(duplicates(defs)).toEqual([]);
  });

  it('keeps functions, triggers and views out of the migrations, but for FUNCTIONS blocks', () => {
    const outside = sqlFiles()
      .filter((f) => f.file.startsWith('migrations'))
      .flatMap((f) => definitions(f.text.replace(BLOCK, ''), f.file))
      .map((d) => `${d.file}:${d.line} ${d.kind} ${d.name}`);
    expect(outside).toEqual([]);
  });

  it('applies every area file (none is left out of FUNCTION_AREAS)', () => {
    const files = sqlFiles()
      .filter((f) => f.file.startsWith(join('sql', 'functions')))
      .map((f) => f.file.replace(/^.*\/(.+)\.sql$/, '$1'))
      .sort();
    expect(files).toEqual([...FUNCTION_AREAS].sort());
  });
});
