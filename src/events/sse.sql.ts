import { Queryable } from '../db/db.js';
import { EventRow, toStoredEvent } from './event-store.js';
import { StoredEvent } from './event.types.js';

/**
 * The next page of events after `after`, bounded by rows and by bytes: events
 * are taken in seq order while the JSON text of the ones before stays under
 * `maxBytes` (so the first is always taken, however large). A replay of a
 * 30 MB log thus holds one page in the API at a time, not the log.
 */
export async function readPageByBytes(
  db: Queryable,
  after: number,
  stream: string | undefined,
  maxBytes: number,
  maxRows: number,
): Promise<StoredEvent[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT seq, stream, stream_version, type, data, metadata, occurred_at, prev_hash, hash
       FROM (SELECT e.*, sum(octet_length(e.data::text) + octet_length(e.metadata::text))
                           OVER (ORDER BY e.seq) AS upto,
                    octet_length(e.data::text) + octet_length(e.metadata::text) AS size
               FROM (SELECT * FROM aol_events
                      WHERE seq > $1 AND ($2::text IS NULL OR stream = $2)
                      ORDER BY seq LIMIT $4) e) p
      WHERE upto - size < $3
      ORDER BY seq`,
    [after, stream ?? null, maxBytes, maxRows],
  );
  return rows.map(toStoredEvent);
}
