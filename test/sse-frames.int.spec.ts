import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { appendAlone, createTestDb, TestDb } from './support/db.js';
import { EventStore } from '../src/events/event-store.js';
import { readFrames } from '../src/events/sse.sql.js';

/** The SSE frames PostgreSQL renders carry exactly the events GET /events serves. */
describe('SSE frames (events/sse.sql.ts)', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb('sse_frames');
    const tricky = 'quote " backslash \\ newline \n tab \t unicode é ☃ 𝄞 \u2028';
    await appendAlone(
      t.db,
      Array.from({ length: 30 }, (_, i) => ({
        stream: `action:${900 + i}`,
        expectedVersion: 0,
        event: {
          type: 'ActionEnqueued' as const,
          data: {
            id: 900 + i,
            idempotency_key: `frames-${i}-${tricky}`,
            action_type: 'NOOP',
            payload: { note: tricky.repeat(i * 50), n: i, nested: { a: [1, null, true] } },
            not_before: new Date().toISOString(),
          },
        },
        metadata: { actor: `a${i}`, via: 'api' as const, reason: tricky },
      })),
    );
  });
  afterAll(async () => t.db.close());

  it('equal, field for field, to the stored events; one frame per event; paged by bytes', async () => {
    const events = await new EventStore(t.db).read({ after: 0, limit: 1000 });
    const frames = await readFrames(t.db, 0, undefined, 10_000_000, 1000);
    expect(frames.map((f) => f.seq)).toEqual(events.map((e) => e.seq));
    for (const [i, f] of frames.entries()) {
      const m = /^id: (\d+)\nevent: (\w+)\ndata: (.*)\n\n$/s.exec(f.frame);
      expect(m).not.toBeNull();
      expect(m![3]).not.toContain('\n');
      expect(Number(m![1])).toBe(events[i].seq);
      expect(m![2]).toBe(events[i].type);
      expect(JSON.parse(m![3])).toEqual(events[i]);
    }
    // A byte budget smaller than one event still returns that event; a mid-size one stops early.
    expect((await readFrames(t.db, 0, undefined, 1, 1000)).length).toBe(1);
    const total = frames.reduce((s, f) => s + Buffer.byteLength(f.frame), 0);
    const half = await readFrames(t.db, 0, undefined, total / 2, 1000);
    expect(half.length).toBeGreaterThan(1);
    expect(half.length).toBeLessThan(frames.length);
    expect((await readFrames(t.db, 0, 'action:905', 10_000_000, 1000)).map((f) => f.seq)).toEqual(
      events.filter((e) => e.stream === 'action:905').map((e) => e.seq),
    );
  });
});
