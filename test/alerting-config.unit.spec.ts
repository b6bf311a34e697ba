import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../src/config/config.js';

describe('config: presence and alerting variables', () => {
  it('defaults: no standby expected, no notifier, verify every 5 minutes', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      expectStandby: false,
      alertWebhookUrl: undefined,
      alertEmail: [],
      alertIntervalSeconds: 15,
      verifyIntervalSeconds: 300,
    });
  });

  it('parses the notifier settings', () => {
    const c = loadConfig({
      AOL_EXPECT_STANDBY: 'true',
      AOL_ALERT_WEBHOOK_URL: 'https://hooks.example.com/services/x',
      AOL_ALERT_EMAIL: 'a@example.com, b@example.com',
      SMTP_URL: 'smtp://127.0.0.1:25',
    });
    expect(c.expectStandby).toBe(true);
    expect(c.alertEmail).toEqual(['a@example.com', 'b@example.com']);
  });

  it.each([
    [{ AOL_EXPECT_STANDBY: 'maybe' }, /AOL_EXPECT_STANDBY/],
    [{ AOL_ALERT_WEBHOOK_URL: 'hooks.example.com' }, /AOL_ALERT_WEBHOOK_URL/],
    [{ AOL_ALERT_EMAIL: 'not-an-address', SMTP_URL: 'smtp://h' }, /AOL_ALERT_EMAIL/],
    [{ AOL_ALERT_EMAIL: 'a@example.com' }, /AOL_ALERT_EMAIL needs SMTP_URL/],
    [{ AOL_ALERT_INTERVAL_SECONDS: '0' }, /AOL_ALERT_INTERVAL_SECONDS/],
    [{ AOL_VERIFY_INTERVAL_SECONDS: '-1' }, /AOL_VERIFY_INTERVAL_SECONDS/],
  ])('refuses %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
