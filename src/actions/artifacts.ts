import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queryable } from '../db/db.js';

export type ArtifactRef = Readonly<{ ref: string; sha256: string }>;
export type Artifact = Readonly<{ ref: string; contentType: string; body: Buffer; sha256: string }>;

export function sha256(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * Store an artifact durably in PostgreSQL (Render's disk is ephemeral), in the
 * caller's transaction, addressed by action and content hash. The same content
 * stored twice (a retried attempt) is one row.
 */
export async function storeArtifact(
  client: Queryable,
  actionId: number,
  contentType: string,
  body: string,
): Promise<Artifact> {
  const bytes = Buffer.from(body, 'utf8');
  const hash = sha256(bytes);
  const ref = `${actionId}/${hash}`;
  await client.query(
    `INSERT INTO aol_artifacts (ref, action_id, content_type, body, sha256) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (ref) DO NOTHING`,
    [ref, actionId, contentType, bytes, hash],
  );
  return { ref, contentType, body: bytes, sha256: hash };
}

/** Best-effort copy to AOL_ARTIFACT_DIR after commit; the database copy is the durable one. */
export async function mirrorArtifact(dir: string, actionId: number, a: Artifact): Promise<string> {
  await mkdir(dir, { recursive: true });
  const ext = a.contentType.startsWith('application/json') ? 'json' : 'txt';
  const path = join(dir, `action-${actionId}-${a.sha256}.${ext}`);
  await writeFile(path, a.body);
  return path;
}

export async function latestArtifact(db: Queryable, actionId: number): Promise<Artifact | null> {
  const { rows } = await db.query<{
    ref: string;
    content_type: string;
    body: Buffer;
    sha256: string;
  }>(
    `SELECT a.ref, a.content_type, a.body, a.sha256 FROM aol_execution_logs l
       JOIN aol_artifacts a ON a.ref = l.artifact_ref
      WHERE l.action_id = $1 ORDER BY l.seq DESC LIMIT 1`,
    [actionId],
  );
  const r = rows[0];
  return r ? { ref: r.ref, contentType: r.content_type, body: r.body, sha256: r.sha256 } : null;
}

/** Re-hash every stored artifact; the refs whose content no longer matches. */
export async function verifyArtifacts(db: Queryable): Promise<{ checked: number; bad: string[] }> {
  const { rows } = await db.query<{ ref: string; body: Buffer; sha256: string }>(
    'SELECT ref, body, sha256 FROM aol_artifacts ORDER BY ref',
  );
  const bad = rows.filter((r) => sha256(r.body) !== r.sha256).map((r) => r.ref);
  return { checked: rows.length, bad };
}
