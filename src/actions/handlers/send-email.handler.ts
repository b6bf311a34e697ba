import { ActionHandler } from '../action-handler.js';
import { ActionError, toActionError, unconfigured } from '../action-error.js';
import { PayloadReader, result } from '../payload.js';

type Email = { to: string; subject: string; text: string; from: string };

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

function message(p: Email, key: string) {
  return {
    from: p.from,
    to: p.to,
    subject: p.subject,
    text: p.text,
    headers: { 'X-AOL-Idempotency-Key': key },
  };
}

/**
 * SEND_EMAIL over SMTP (`SMTP_URL`, nodemailer, loaded only when a real email
 * is sent). SMTP has no idempotency key a server honours, so an email whose
 * worker died mid-send is never re-sent automatically: it becomes UNKNOWN.
 */
export const sendEmailHandler: ActionHandler<Email> = {
  type: 'SEND_EMAIL',
  idempotent: false,
  validate(payload) {
    const r = new PayloadReader(payload, ['to', 'subject', 'text', 'from']);
    const to = r.str('to', {
      pattern: EMAIL,
      patternMessage: 'payload.to must be an email address',
      max: 320,
    });
    const subject = r.str('subject', { max: 998 });
    const text = r.str('text', { max: 100_000 });
    const from = r.str('from', {
      required: false,
      pattern: EMAIL,
      patternMessage: 'payload.from must be an email address',
    });
    return result(r, () => ({
      to: to!,
      subject: subject!,
      text: text!,
      from: from ?? 'aol@localhost',
    }));
  },
  render(p, ctx) {
    return {
      transport: 'smtp',
      envelope: { from: p.from, to: [p.to] },
      message: message(p, ctx.idempotencyKey),
    };
  },
  async execute(p, ctx) {
    if (!ctx.config.smtpUrl) throw unconfigured('SMTP_URL is not set');
    const nodemailer = await import('nodemailer');
    const transport = nodemailer.createTransport(ctx.config.smtpUrl);
    const abort = () => transport.close();
    ctx.signal.addEventListener('abort', abort, { once: true });
    try {
      const info = await transport.sendMail(message(p, ctx.idempotencyKey));
      return { message: `sent to ${p.to} (${info.messageId})` };
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode;
      if (typeof code === 'number') {
        throw new ActionError(
          code >= 500 ? 'permanent' : 'transient',
          `SMTP ${code}: ${(err as Error).message}`,
        );
      }
      throw toActionError(err, ctx.signal);
    } finally {
      ctx.signal.removeEventListener('abort', abort);
      transport.close();
    }
  },
};
