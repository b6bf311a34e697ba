import { hostname } from 'node:os';
import type { Config } from '../config/config.js';
import type { AlertDeliveries } from '../events/event.types.js';

export type Message = Readonly<{ subject: string; text: string }>;

/**
 * Where the built-in notifier sends: a Slack-compatible webhook (a JSON body
 * `{"text": ...}`, which Slack, Mattermost, Rocket.Chat and Teams' Slack
 * connector all accept) and/or email over SMTP_URL (nodemailer, loaded only
 * when used). Each channel reports 'sent' or why not; the reason never carries
 * the webhook URL or SMTP credentials (a Slack URL is itself a secret).
 */
export function configuredChannels(config: Config): string[] {
  return [
    ...(config.alertWebhookUrl ? ['webhook'] : []),
    ...(config.alertEmail.length > 0 ? ['email'] : []),
  ];
}

export async function deliver(config: Config, m: Message): Promise<AlertDeliveries> {
  const out: Record<string, string> = {};
  const scrub = (err: unknown) =>
    redact(config, `failed: ${(err as Error).message ?? String(err)}`);
  if (config.alertWebhookUrl) {
    try {
      const res = await fetch(config.alertWebhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: m.text }),
        signal: AbortSignal.timeout(10_000),
      });
      await res.body?.cancel();
      out.webhook = res.ok ? 'sent' : `failed: HTTP ${res.status}`;
    } catch (err) {
      out.webhook = scrub(err);
    }
  }
  if (config.alertEmail.length > 0 && config.smtpUrl) {
    const nodemailer = await import('nodemailer');
    const transport = nodemailer.createTransport(config.smtpUrl);
    try {
      await transport.sendMail({
        from: `AOL alerts <aol-alerts@${hostname()}>`,
        to: config.alertEmail,
        subject: m.subject,
        text: m.text,
      });
      out.email = 'sent';
    } catch (err) {
      out.email = scrub(err);
    } finally {
      transport.close();
    }
  }
  return out;
}

function redact(config: Config, text: string): string {
  let s = text;
  for (const secret of [config.alertWebhookUrl, config.smtpUrl]) {
    if (!secret) continue;
    s = s.split(secret).join('<redacted>');
    try {
      const u = new URL(secret);
      if (u.password) s = s.split(decodeURIComponent(u.password)).join('<redacted>');
      if (u.pathname.length > 1) s = s.split(u.pathname).join('/<redacted>');
    } catch {
      // not a URL: the whole string was already replaced
    }
  }
  return s;
}
