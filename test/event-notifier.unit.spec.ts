import { describe, expect, it } from '@jest/globals';
import { reconnectDelayMs } from '../src/events/event-notifier.js';

describe('LISTEN reconnect backoff', () => {
  it('doubles from 100 ms, caps at 10 s, and is jittered ×[0.5, 1.5)', () => {
    const low = () => 0;
    const high = () => 0.999999;
    expect([1, 2, 3, 4].map((n) => reconnectDelayMs(n, low))).toEqual([50, 100, 200, 400]);
    expect(reconnectDelayMs(1, high)).toBe(150);
    expect(reconnectDelayMs(20, low)).toBe(5000);
    expect(reconnectDelayMs(20, high)).toBe(15000);
    const spread = new Set(Array.from({ length: 50 }, () => reconnectDelayMs(3)));
    expect(spread.size).toBeGreaterThan(10);
  });
});
