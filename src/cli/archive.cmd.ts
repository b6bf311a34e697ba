import { Command } from 'commander';
import { archive, planArchive } from '../events/archive.js';
import { parseInstant } from '../history/replay.js';
import { cliConfig, openDb, progress, UsageError } from './context.js';

/** --before: a seq (events below it) or an ISO-8601 time (events that occurred before it). */
function beforeOption(v: string): number | Date {
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new UsageError(`--before must be a seq of 1 or more or an ISO-8601 time, not "${v}"`);
    return n;
  }
  try {
    return parseInstant(v, '--before');
  } catch (err) {
    throw new UsageError(`${(err as Error).message}, not "${v}"`);
  }
}

export function registerArchiveCommand(events: Command): void {
  events
    .command('archive')
    .description(
      'move old events out of the live log: NDJSON segments and a manifest signed with AOL_SIGNING_KEY in --out, LogSegmentArchived recorded, then their partitions dropped (whole partitions only)',
    )
    .requiredOption(
      '--before <seq|iso-time>',
      'archive events before this seq or time',
      beforeOption,
    )
    .requiredOption('--out <dir>', 'the directory the segments and the manifest are written to')
    .option('--reason <text>', 'recorded with the LogSegmentArchived event')
    .option('--dry-run', 'say what would be archived, change nothing')
    .option('--json', 'print the outcome as JSON')
    .action(
      async (o: {
        before: number | Date;
        out: string;
        reason?: string;
        dryRun?: boolean;
        json?: boolean;
      }) => {
        const config = cliConfig();
        if (!o.dryRun && !config.signingKey)
          throw new Error(
            'AOL_SIGNING_KEY is not set: an archive manifest must be signed with the checkpoint key',
          );
        const db = openDb(config);
        try {
          const plan = await planArchive(db, o.before);
          const boundaries = plan.boundaries.length
            ? plan.boundaries.join(', ')
            : 'none yet (the head is in the first live partition)';
          if (!plan.range || o.dryRun) {
            const what = plan.range
              ? `would archive events ${plan.range[0]}..${plan.range[1]} (${plan.partitions.length} partition(s))`
              : `nothing to archive before seq ${plan.requestedBefore}: archives end at a partition boundary, and no whole partition lies before it`;
            if (o.json) console.log(JSON.stringify({ archived: false, ...plan }));
            else
              console.log(
                `${what}; the live log holds ${plan.firstLive}..${plan.head}; archivable ends: ${boundaries}`,
              );
            return;
          }
          const bar = progress('archive');
          const r = await archive(db, plan, o.out, config.signingKey!, o.reason, bar.update);
          bar.done();
          const [first, last] = plan.range;
          if (o.json) {
            console.log(
              JSON.stringify({
                archived: true,
                first_seq: first,
                last_seq: last,
                count: last - first + 1,
                requested_before: plan.requestedBefore,
                manifest: r.manifestFile,
                manifest_sha256: r.manifestSha256,
                files: r.manifest!.files,
                event_seq: r.event!.seq,
              }),
            );
            return;
          }
          console.log(
            `archived events ${first}..${last} (${last - first + 1} events, ${r.manifest!.files.length} segment(s)) to ${o.out}`,
          );
          if (last + 1 < plan.requestedBefore)
            console.log(
              `  archives end at a partition boundary: asked for events before ${plan.requestedBefore}, archived through ${last}; events ${last + 1}.. stay live`,
            );
          console.log(
            `  manifest ${r.manifestFile} sha256 ${r.manifestSha256} (key ${r.manifest!.key_id})`,
          );
          console.log(
            `  recorded as LogSegmentArchived, seq ${r.event!.seq}; the live log now starts at seq ${last + 1}`,
          );
          console.log(
            `  keep the directory (e.g. aws s3 cp --recursive ${o.out} s3://BUCKET/aol-archive/) and verify with: aol events verify --archive ${o.out}`,
          );
        } finally {
          await db.close();
        }
      },
    );
}
