-- Signed checkpoints (docs/checkpoints.md). A LogCheckpointSigned event lives
-- on its own stream, `log`: it changes no read model (aol_apply_events()
-- ignores streams it has no projection for), and it is chained and hashed like
-- every other event. The signature itself is made in Node with a key the
-- database never sees, so nothing here can create a valid one.
ALTER TABLE aol_events DROP CONSTRAINT aol_events_stream_check;
ALTER TABLE aol_events ADD CONSTRAINT aol_events_stream_check
  CHECK (stream ~ '^(control|lease|tick|log|action:[0-9]+)$');
