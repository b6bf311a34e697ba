import { ActionHandler } from './action-handler.js';
import { generateContentHandler } from './handlers/generate-content.handler.js';
import { httpWebhookHandler } from './handlers/http-webhook.handler.js';
import { postSocialHandler } from './handlers/post-social.handler.js';
import { sendEmailHandler } from './handlers/send-email.handler.js';
import { noopHandler } from './handlers/noop.handler.js';

/** Every action type the worker can run, by name. */
export const HANDLERS: ReadonlyMap<string, ActionHandler> = new Map(
  (
    [
      postSocialHandler,
      sendEmailHandler,
      httpWebhookHandler,
      generateContentHandler,
      noopHandler,
    ] as ActionHandler[]
  ).map((h) => [h.type, h]),
);

export const ACTION_TYPES = [...HANDLERS.keys()];
