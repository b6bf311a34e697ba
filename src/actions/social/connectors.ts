import { blueskyConnector } from './bluesky.connector.js';
import { mastodonConnector } from './mastodon.connector.js';
import { SocialConnector } from './social-connector.js';

/** The social platforms POST_SOCIAL can post to for real, by `social_platform`. */
export const CONNECTORS: ReadonlyMap<string, SocialConnector> = new Map(
  [mastodonConnector, blueskyConnector].map((c) => [c.platform, c]),
);
