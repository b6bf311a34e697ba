import { describe, expect, it } from '@jest/globals';
import {
  checkCronSpec,
  decideFires,
  fireKey,
  fireTimesAfter,
  LATE_AFTER_SECONDS,
  SCAN_LIMIT,
} from '../src/schedules/schedule.decider.js';

const at = (iso: string) => new Date(iso);
const iso = (ds: readonly Date[]) => ds.map((d) => d.toISOString());
const everyMinute = { cron: '* * * * *', timeZone: 'UTC' };

describe('schedule decider: which fire times are due (given / when / then)', () => {
  it('given nothing due yet, when the scheduler looks, then nothing fires', () => {
    expect(
      decideFires(everyMinute, at('2026-01-01T10:00:00Z'), at('2026-01-01T10:00:59.999Z'), {
        policy: 'skip',
      }),
    ).toBeNull();
  });

  it('given the handled-through time is itself a fire time, then that fire time is not due again', () => {
    const d = decideFires(everyMinute, at('2026-01-01T10:01:00Z'), at('2026-01-01T10:01:30Z'), {
      policy: 'skip',
    });
    expect(d).toBeNull();
  });

  it('given one fire time just passed, when the scheduler looks, then it fires once and the next is a minute on', () => {
    const d = decideFires(everyMinute, at('2026-01-01T10:00:00Z'), at('2026-01-01T10:01:02Z'), {
      policy: 'skip',
    })!;
    expect(iso(d.fire)).toEqual(['2026-01-01T10:01:00.000Z']);
    expect(d.missed).toBeNull();
    expect(d.handledThrough.toISOString()).toBe('2026-01-01T10:01:00.000Z');
    expect(d.nextFire?.toISOString()).toBe('2026-01-01T10:02:00.000Z');
  });

  it('given 10 minutes of downtime and policy skip, then only the on-time fire time fires and 9 are missed', () => {
    const d = decideFires(everyMinute, at('2026-01-01T10:00:00Z'), at('2026-01-01T10:10:05Z'), {
      policy: 'skip',
    })!;
    expect(iso(d.fire)).toEqual(['2026-01-01T10:10:00.000Z']);
    expect(d.missed).toEqual({
      count: 9,
      first: at('2026-01-01T10:01:00Z'),
      last: at('2026-01-01T10:09:00Z'),
    });
    expect(d.handledThrough.toISOString()).toBe('2026-01-01T10:10:00.000Z');
  });

  it(`given policy skip and the last fire time more than ${LATE_AFTER_SECONDS} s late, then nothing fires and all are missed`, () => {
    const d = decideFires(everyMinute, at('2026-01-01T10:00:00Z'), at('2026-01-01T10:03:30Z'), {
      policy: 'skip',
    });
    // 10:03 is 30 s late: on time
    expect(iso(d!.fire)).toEqual(['2026-01-01T10:03:00.000Z']);
    const hourly = { cron: '0 * * * *', timeZone: 'UTC' };
    const late = decideFires(hourly, at('2026-01-01T08:30:00Z'), at('2026-01-01T10:05:00Z'), {
      policy: 'skip',
    })!;
    expect(late.fire).toEqual([]);
    expect(late.missed?.count).toBe(2);
    expect(late.handledThrough.toISOString()).toBe('2026-01-01T10:00:00.000Z');
    expect(late.nextFire?.toISOString()).toBe('2026-01-01T11:00:00.000Z');
  });

  it('given 10 minutes of downtime and catch_up at most 3, then the latest 3 fire (oldest first) and 7 are missed', () => {
    const d = decideFires(everyMinute, at('2026-01-01T10:00:00Z'), at('2026-01-01T10:10:05Z'), {
      policy: 'catch_up',
      max: 3,
    })!;
    expect(iso(d.fire)).toEqual([
      '2026-01-01T10:08:00.000Z',
      '2026-01-01T10:09:00.000Z',
      '2026-01-01T10:10:00.000Z',
    ]);
    expect(d.missed?.count).toBe(7);
  });

  it('given catch_up with fewer missed than the maximum, then every due fire time fires', () => {
    const d = decideFires(everyMinute, at('2026-01-01T10:00:00Z'), at('2026-01-01T10:02:00Z'), {
      policy: 'catch_up',
      max: 5,
    })!;
    expect(iso(d.fire)).toEqual(['2026-01-01T10:01:00.000Z', '2026-01-01T10:02:00.000Z']);
    expect(d.missed).toBeNull();
  });

  it(`given a backlog longer than ${SCAN_LIMIT} fire times, then one chunk is recorded missed and the next decision goes on`, () => {
    const from = at('2026-01-01T00:00:00Z');
    const now = at('2026-01-15T00:00:30Z'); // 14 days of minutes
    const d = decideFires(everyMinute, from, now, { policy: 'catch_up', max: 3 })!;
    expect(d.fire).toEqual([]);
    expect(d.missed?.count).toBe(SCAN_LIMIT);
    // the scheduler decides again until the backlog is through: 20,160 minutes in all
    let handled = d.missed!.count;
    let rest = d;
    while (rest.fire.length === 0) {
      rest = decideFires(everyMinute, rest.handledThrough, now, { policy: 'catch_up', max: 3 })!;
      handled += (rest.missed?.count ?? 0) + rest.fire.length;
    }
    expect(iso(rest.fire)).toEqual([
      '2026-01-14T23:58:00.000Z',
      '2026-01-14T23:59:00.000Z',
      '2026-01-15T00:00:00.000Z',
    ]);
    expect(handled).toBe(14 * 24 * 60);
    expect(decideFires(everyMinute, rest.handledThrough, now, { policy: 'skip' })).toBeNull();
  });

  it('given a time zone, then fire times follow its wall clock across a DST change', () => {
    // 09:00 in Berlin: 08:00Z before 29 March 2026, 07:00Z after
    expect(
      iso(
        fireTimesAfter(
          { cron: '0 9 * * *', timeZone: 'Europe/Berlin' },
          at('2026-03-28T00:00:00Z'),
          2,
        ),
      ),
    ).toEqual(['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z']);
  });

  it('given the same fire time twice, then the idempotency key is the same', () => {
    const id = '0b7f9a64-5d1e-4c1f-9a57-3f3f8a0c2d11';
    expect(fireKey(id, at('2026-01-01T10:01:00Z'))).toBe(`schedule:${id}:2026-01-01T10:01:00.000Z`);
  });
});

describe('schedule decider: validation', () => {
  it.each([
    ['*/15 * * * *', 'UTC'],
    ['0 9 * * 1-5', 'America/New_York'],
    ['30 6 1 * *', 'Asia/Kolkata'],
  ])('accepts %s in %s', (cron, timeZone) => {
    expect(checkCronSpec({ cron, timeZone })).toEqual([]);
  });

  it.each([
    ['61 * * * *', /^cron: .*not a valid cron expression/],
    ['hello world', /^cron: .*5 fields/],
    ['0 0 * * * *', /^cron: .*5 fields/], // a seconds field is refused
    ['', /^cron: /],
  ])('refuses cron %p with a field message', (cron, msg) => {
    const errors = checkCronSpec({ cron, timeZone: 'UTC' });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(msg);
  });

  it.each(['Mars/Olympus_Mons', 'Europe/Nowhere', 'not a zone', ''])(
    'refuses time zone %p',
    (timeZone) => {
      expect(checkCronSpec({ cron: '* * * * *', timeZone })).toEqual([
        expect.stringMatching(/^time_zone: .* is not an IANA time zone/),
      ]);
    },
  );
});
