import { Queryable } from '../db/db.js';

/** One event as its ready-to-send SSE frame. */
export type SseFrame = Readonly<{ seq: number; frame: string }>;

/**
 * The next page of events after `after` as SSE frames, bounded by rows and
 * by bytes: frames are taken in seq order while the ones before stay under
 * `maxBytes` (the first is always taken, however large). A replay of a 30 MB
 * log thus holds one page in the API at a time, not the log.
 *
 * PostgreSQL renders each frame (`id:` seq, `event:` type, `data:` the event
 * as JSON with the fields and values GET /events serves, in the same order;
 * `data` and `metadata` as jsonb prints them, occurred_at as toISOString()
 * does, milliseconds truncated like node-pg's Date; JSON text never holds a
 * raw newline, so a frame can't be split): the
 * API only passes text through instead of parsing and re-serialising every
 * event, which kept its event loop busy for seconds when 50 clients replayed
 * a large log at once.
 */
export async function readFrames(
  db: Queryable,
  after: number,
  stream: string | undefined,
  maxBytes: number,
  maxRows: number,
): Promise<SseFrame[]> {
  const { rows } = await db.query<SseFrame>(
    `SELECT seq, frame
       FROM (SELECT seq, frame,
                    sum(octet_length(frame)) OVER (ORDER BY seq) - octet_length(frame) AS before
               FROM (SELECT seq,
                            'id: ' || seq || E'\nevent: ' || type || E'\ndata: {"seq":' || seq ||
                            ',"stream":' || to_json(stream)::text ||
                            ',"stream_version":' || stream_version ||
                            ',"type":' || to_json(type)::text ||
                            ',"data":' || data::text || ',"metadata":' || metadata::text ||
                            ',"occurred_at":"' ||
                            to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ||
                            '","prev_hash":"' || prev_hash || '","hash":"' || hash || E'"}\n\n' AS frame
                       FROM aol_events
                      WHERE seq > $1 AND ($2::text IS NULL OR stream = $2)
                      ORDER BY seq LIMIT $4) e) p
      WHERE before < $3
      ORDER BY seq`,
    [after, stream ?? null, maxBytes, maxRows],
  );
  return rows;
}
