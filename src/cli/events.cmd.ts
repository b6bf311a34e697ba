import { Command } from 'commander';
import { EventStore } from '../events/event-store.js';
import { StoredEvent } from '../events/event.types.js';
import { resolveAt } from '../history/replay.js';
import { replayTo, takeSnapshot } from '../history/snapshots.js';
import { parseBoundedInt } from '../common/bounded.js';
import { Db } from '../db/db.js';
import { cliActor, cliConfig, openDb, progress, usageInt, UsageError } from './context.js';
import { registerCheckpointCommands } from './checkpoints.cmd.js';
import { registerArchiveCommand } from './archive.cmd.js';
import { ArchiveFormatError, archiveSource } from '../events/archive.js';

/** A seq option: 0 … 2^63−1, else a usage error (exit 64). */
function seqOption(v: string): number {
  try {
    return parseBoundedInt(v, '--after');
  } catch (err) {
    throw new UsageError(`${(err as Error).message}, not "${v}"`);
  }
}

/** One event as a line that fits a terminal. */
export function formatEvent(e: StoredEvent): string {
  const who = `${e.metadata.actor ?? '?'}/${e.metadata.via ?? '?'}`;
  const reason = e.metadata.reason ? ` "${e.metadata.reason}"` : '';
  return `${String(e.seq).padStart(7)}  ${e.occurred_at}  ${e.stream.padEnd(12)} ${e.type.padEnd(26)} ${who}${reason}`;
}

async function withStore<T>(fn: (store: EventStore, db: Db) => Promise<T>): Promise<T> {
  const db = openDb(cliConfig());
  try {
    return await fn(new EventStore(db), db);
  } finally {
    await db.close();
  }
}

export function registerEventCommands(program: Command): void {
  const events = program
    .command('events')
    .description('read, stream, replay, verify and export the event log');

  events
    .command('list')
    .description('list events after a seq')
    .option('--after <seq>', 'only events after this seq', seqOption, 0)
    .option(
      '--stream <stream>',
      'only this stream (control, lease, tick, log, schedule, action:<id>)',
    )
    .option('--type <type>', 'only this event type')
    .option(
      '--limit <n>',
      'at most this many (1..100000)',
      (v) => usageInt(v, '--limit', 100000n),
      100,
    )
    .option('--json', 'one JSON event per line')
    .action((o: { after: number; stream?: string; type?: string; limit: number; json?: boolean }) =>
      withStore(async (store) => {
        if (!Number.isInteger(o.limit) || o.limit < 1 || o.limit > 100000)
          throw new UsageError('--limit must be 1..100000');
        const list = await store.read({
          after: o.after,
          stream: o.stream,
          type: o.type,
          limit: o.limit,
        });
        for (const e of list) console.log(o.json ? JSON.stringify(e) : formatEvent(e));
        if (!o.json && list.length === 0) console.log('(no events)');
      }),
    );

  events
    .command('tail')
    .description('follow the log live (Ctrl-C stops)')
    .option('--after <seq>', 'start after this seq (default: now)', seqOption)
    .option('--stream <stream>', 'only this stream')
    .option('--json', 'one JSON event per line')
    .action(async (o: { after?: number; stream?: string; json?: boolean }) => {
      const config = cliConfig();
      const db = openDb(config);
      const store = new EventStore(db);
      // rxjs and pg-listen only for this command: the others start faster without them
      const { EventNotifier } = await import('../events/event-notifier.js');
      const { subscribeEvents } = await import('../events/subscribe.js');
      const notifier = new EventNotifier(config.databaseUrl!);
      await notifier.start();
      const from = o.after ?? (await store.headSeq());
      const sub = subscribeEvents(store, notifier, from, { stream: o.stream }).subscribe((e) =>
        console.log(o.json ? JSON.stringify(e) : formatEvent(e)),
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      sub.unsubscribe();
      await notifier.stop();
      await db.close();
    });

  events
    .command('snapshot')
    .description(
      'store a snapshot of the replayed state at the head (or --at), recorded by a SnapshotTaken event; needs the service role',
    )
    .option('--at <seq|iso-time>', 'the seq or time to snapshot (default: the head of the log)')
    .option(
      '--archive <dir>',
      'read the archived events from this directory (aol events archive --out), then the live ones',
    )
    .option('--json', 'print JSON')
    .action((o: { at?: string; archive?: string; json?: boolean }) =>
      withStore(async (store, db) => {
        const seq = await resolveAt(store, o.at);
        if (seq === 0) throw new UsageError('the log is empty: nothing to snapshot');
        const actor = await cliActor(db, undefined);
        const bar = progress('snapshot');
        const t = await takeSnapshot(
          db,
          seq,
          { actor: actor.name, via: 'cli', reason: 'aol events snapshot' },
          bar.update,
          o.archive ? archiveSource(o.archive, store, db) : undefined,
        ).catch((err: unknown) => {
          if (err instanceof ArchiveFormatError) throw new UsageError(err.message);
          throw err;
        });
        bar.done();
        if (o.json) console.log(JSON.stringify(t, null, 2));
        else if (t.event_seq === null) console.log(`a snapshot of seq ${t.seq} exists already`);
        else
          console.log(
            `snapshot of seq ${t.seq} (${t.bytes} bytes, sha256 ${t.sha256}) recorded by event ${t.event_seq}`,
          );
      }),
    );

  events
    .command('replay')
    .description(
      'the state (flags, lease, queue counts) as of a seq or a time, folded from the nearest snapshot',
    )
    .option('--until <seq|iso-time>', 'replay up to this seq or time (default: the whole log)')
    .option(
      '--archive <dir>',
      'read the archived events from this directory (aol events archive --out), then the live ones',
    )
    .option('--json', 'print JSON (the same body as GET /state)')
    .option('--full', 'fold from seq 1, ignoring snapshots')
    .action((o: { until?: string; archive?: string; json?: boolean; full?: boolean }) =>
      withStore(async (store, db) => {
        const until = await resolveAt(store, o.until);
        const bar = progress('replay');
        const state = await replayTo(db, until, {
          onProgress: bar.update,
          snapshots: !o.full,
          source: o.archive ? archiveSource(o.archive, store, db) : undefined,
          onRejected: (s, why) => console.error(`aol: snapshot of seq ${s} not used: ${why}`),
        }).catch((err: unknown) => {
          if (err instanceof ArchiveFormatError) throw new UsageError(err.message);
          throw err;
        });
        bar.done();
        if (o.json) {
          console.log(JSON.stringify(state, null, 2));
          return;
        }
        const f = state.flags;
        console.log(`state as of seq ${state.at_seq}`);
        console.log(
          `  flags: paused=${f.paused} killed=${f.killed} proof_mode=${f.proof_mode} (version ${f.version})`,
        );
        console.log(
          `  lease: ${state.lease ? `${state.lease.owner} epoch ${state.lease.epoch} until ${state.lease.expires_at}` : 'none'}`,
        );
        console.log(
          `  queue: ${Object.entries(state.queue_counts)
            .filter(([k]) => k !== 'succeeded')
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        );
      }),
    );

  registerCheckpointCommands(events);
  registerArchiveCommand(events);

  events
    .command('export')
    .description('write the whole log as NDJSON to stdout')
    .option('--after <seq>', 'only events after this seq', seqOption, 0)
    .action((o: { after: number }) =>
      withStore(async (store) => {
        const total = await store.headSeq();
        const bar = progress('export');
        let done = 0;
        for await (const page of store.readAll(o.after)) {
          const chunk = page.map((e) => JSON.stringify(e)).join('\n') + '\n';
          if (!process.stdout.write(chunk))
            await new Promise((r) => process.stdout.once('drain', r));
          done += page.length;
          bar.update(done, total - o.after);
        }
        bar.done();
      }),
    );
}
