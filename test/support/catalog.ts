import type { Db } from '../../src/db/db.js';

/**
 * The schema as the catalog describes it, in a stable order and independent
 * of the server's major version (unlike pg_dump's text): every aol_ function
 * with its definition, owner and ACL, every trigger, table column,
 * constraint and index, every relation's owner and ACL. Two databases with
 * equal catalogs behave the same. ACL items are sorted: their order is the
 * order grants were made in.
 */
export async function catalog(db: Db): Promise<Record<string, string[]>> {
  const q = async (sql: string) => (await db.query<{ x: string }>(sql)).rows.map((r) => r.x);
  const acl = (col: string) =>
    `coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(${col}) a), '')`;
  return {
    functions: await q(`SELECT pg_get_functiondef(p.oid) || ' owner=' || pg_get_userbyid(p.proowner)
        || ' acl=' || ${acl('p.proacl')} AS x
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' AND p.proname LIKE 'aol\\_%' ORDER BY 1`),
    triggers:
      await q(`SELECT pg_get_triggerdef(t.oid) AS x FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE NOT t.tgisinternal AND c.relname LIKE 'aol\\_%' ORDER BY 1`),
    columns:
      await q(`SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
        || ' ' || coalesce(column_default, '') AS x
      FROM information_schema.columns WHERE table_schema = 'public' AND table_name LIKE 'aol\\_%' ORDER BY 1`),
    constraints:
      await q(`SELECT c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) AS x
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE c.relname LIKE 'aol\\_%' ORDER BY 1`),
    indexes: await q(
      `SELECT indexdef AS x FROM pg_indexes WHERE schemaname = 'public' AND tablename LIKE 'aol\\_%' ORDER BY 1`,
    ),
    relations:
      await q(`SELECT c.relname || ' ' || c.relkind::text || ' owner=' || pg_get_userbyid(c.relowner)
        || ' acl=' || ${acl('c.relacl')} AS x
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relname LIKE 'aol\\_%' AND c.relkind IN ('r', 'p', 'v', 'S') ORDER BY 1`),
    columnAcls: await q(`SELECT c.relname || '.' || a.attname || ' ' || ${acl('a.attacl')} AS x
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relname LIKE 'aol\\_%' AND a.attacl IS NOT NULL ORDER BY 1`),
  };
}
