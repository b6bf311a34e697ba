export type Via = 'api' | 'cli' | 'sql' | 'worker' | 'ui';

export type EventMetadata = Readonly<{
  actor: string;
  via: Via;
  reason?: string;
  request_id?: string;
  /** Free text a CLI user gave with --actor; never the identity. */
  label?: string;
}>;

/** Who asks for a change and through which door; becomes the event metadata. */
export type Actor = Readonly<{ name: string; via: Via; requestId?: string; label?: string }>;

export function metadataFor(actor: Actor, reason?: string): EventMetadata {
  return {
    actor: actor.name,
    via: actor.via,
    ...(reason !== undefined ? { reason } : {}),
    ...(actor.requestId !== undefined ? { request_id: actor.requestId } : {}),
    ...(actor.label !== undefined ? { label: actor.label } : {}),
  };
}
