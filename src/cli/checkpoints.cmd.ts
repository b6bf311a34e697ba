import { Command } from 'commander';
import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { metadataFor } from '../common/actor.js';
import { loadConfig } from '../config/config.js';
import {
  Checkpoint,
  createCheckpoint,
  listCheckpoints,
  mirrorCheckpoint,
  parseCheckpoint,
} from '../events/checkpoints.js';
import {
  CheckpointedVerifyResult,
  OUTSIDE_COPY_NOTE,
  verifyLog,
  VerifyMode,
  ArchiveSummary,
} from '../events/checkpoint-verify.js';
import { ArchiveFormatError } from '../events/archive.js';
import { EventStore } from '../events/event-store.js';
import { generateSigningKeyPair, KeyFormatError, parsePublicKey } from '../common/signing.js';
import { cliActor, cliConfig, openDb, progress, UsageError } from './context.js';

/** --public-key: the key as `aol keys generate` prints it, or a file holding it (or an SPKI PEM). */
function publicKeyOption(v: string): KeyObject {
  const text = existsSync(v) ? readFileSync(v, 'utf8') : v;
  try {
    return parsePublicKey(text);
  } catch (err) {
    if (err instanceof KeyFormatError) throw new UsageError(`--public-key ${err.message}`);
    throw err;
  }
}

/** --checkpoints FILE: a JSON array as `aol events checkpoints --json` or GET /events/checkpoints print it. */
function readCheckpointsFile(file: string): Checkpoint[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--checkpoints ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed))
    throw new UsageError(`--checkpoints ${file}: not a JSON array of checkpoints`);
  return parsed.map((x, i) => {
    try {
      return parseCheckpoint(x);
    } catch (err) {
      throw new UsageError(`--checkpoints ${file}: entry ${i}: ${(err as Error).message}`);
    }
  });
}

function printVerify(
  r: CheckpointedVerifyResult & VerifyMode & { archive?: ArchiveSummary },
  hadFile: boolean,
): void {
  const cp = r.checkpoints;
  if (r.archive && r.ok)
    console.log(
      `archive ${r.archive.dir}: ${r.archive.checked} events in ${r.archive.manifests.length} signed manifest(s), through seq ${r.archive.last_seq}, linked to the live log`,
    );
  if (r.ok) {
    const signed =
      cp.key_id === null
        ? 'signatures not checked'
        : `signed checkpoints verified with key ${cp.key_id} (${Object.entries(cp.by_source)
            .map(([k, n]) => `${k}: ${n}`)
            .join(', ')})` +
          (cp.last_verified_seq !== null ? `, the last covering seq ${cp.last_verified_seq}` : '');
    const walked =
      r.mode === 'incremental'
        ? `${r.checked} events from seq ${r.from_seq} (incremental, from the last trusted checkpoint)`
        : `${r.checked} events`;
    console.log(`OK: ${walked}, hash chain intact; ${signed}`);
  } else {
    const range = r.bad_range ? ` (events ${r.bad_range[0]}..${r.bad_range[1]})` : '';
    console.log(`TAMPERED: first bad event is seq ${r.first_bad_seq}${range}: ${r.problem}`);
  }
  for (const u of r.unchecked) console.log(`not checked: ${u}`);
  if (!hadFile) console.log(`note: ${OUTSIDE_COPY_NOTE}`);
}

export function registerCheckpointCommands(events: Command): void {
  events
    .command('verify')
    .description(
      'walk the hash chain and check it against signed checkpoints; exit 1 and name the first bad seq on tampering',
    )
    .option(
      '--checkpoints <file>',
      'a JSON array of checkpoints saved earlier (aol events checkpoints --json): the copy that proves no tail was cut',
    )
    .option(
      '--public-key <key>',
      'the Ed25519 public key exactly as `aol keys generate` prints it, or a file holding it (default: derived from AOL_SIGNING_KEY when set)',
      publicKeyOption,
    )
    .option(
      '--archive <dir>',
      'an archive directory (aol events archive --out): verify it and the live log as one chain',
    )
    .option(
      '--incremental',
      'walk only the events after the last checkpoint whose signature verifies (default: every event)',
    )
    .option('--full', 'walk every event (the default; kept for scripts that say so)')
    .option(
      '--json',
      'print {ok, checked, first_bad_seq, problem, mode, from_seq, checkpoints, unchecked, note}',
    )
    .action(
      async (o: {
        checkpoints?: string;
        publicKey?: KeyObject;
        full?: boolean;
        incremental?: boolean;
        archive?: string;
        json?: boolean;
      }) => {
        const config = cliConfig();
        const file = o.checkpoints ? readCheckpointsFile(o.checkpoints) : undefined;
        const db = openDb(config);
        try {
          const bar = progress('verify');
          const r = await verifyLog(new EventStore(db), db, {
            key: o.publicKey ?? config.signingKey,
            file,
            dir: config.checkpointDir,
            incremental: o.incremental === true && o.full !== true,
            archive: o.archive,
            onProgress: bar.update,
          }).catch((err: unknown) => {
            if (err instanceof ArchiveFormatError) throw new UsageError(err.message);
            throw err;
          });
          bar.done();
          if (o.json) console.log(JSON.stringify(r));
          else printVerify(r, file !== undefined);
          if (!r.ok) process.exitCode = 1;
        } finally {
          await db.close();
        }
      },
    );

  events
    .command('checkpoint')
    .description(
      'sign the head of the log now with AOL_SIGNING_KEY and record it (LogCheckpointSigned)',
    )
    .option('--json', 'print the checkpoint as JSON')
    .action(async (o: { json?: boolean }) => {
      if (!loadConfig().signingKey)
        throw new Error('AOL_SIGNING_KEY is not set: this environment cannot sign a checkpoint');
      const config = cliConfig();
      const db = openDb(config);
      try {
        const made = await createCheckpoint(
          db,
          config.signingKey!,
          metadataFor(await cliActor(db, undefined)),
        );
        const cp = made ?? (await listCheckpoints(db)).at(-1);
        if (cp && config.checkpointDir) mirrorCheckpoint(config.checkpointDir, cp);
        if (o.json) console.log(JSON.stringify(cp ?? null, null, 2));
        else if (!cp) console.log('the log is empty: nothing to sign');
        else
          console.log(
            `${made ? 'signed' : 'unchanged since the last checkpoint:'} seq ${cp.seq} hash ${cp.hash} (event ${cp.event_seq}, key ${cp.key_id})`,
          );
      } finally {
        await db.close();
      }
    });

  events
    .command('checkpoints')
    .description(
      'the signed checkpoints recorded in the log; save the --json output outside the database',
    )
    .option('--json', 'a JSON array (what verify --checkpoints reads)')
    .action(async (o: { json?: boolean }) => {
      const db = openDb(cliConfig());
      try {
        const list = await listCheckpoints(db);
        if (o.json) console.log(JSON.stringify(list, null, 2));
        else if (list.length === 0) console.log('(no checkpoints)');
        else
          for (const c of list)
            console.log(
              `${String(c.event_seq).padStart(7)}  seq ${c.seq}  ${c.occurred_at}  ${c.hash}  key ${c.key_id}`,
            );
      } finally {
        await db.close();
      }
    });
}

export function registerKeyCommands(program: Command): void {
  program
    .command('keys')
    .description('signing keys for checkpoints')
    .command('generate')
    .description(
      'print a new Ed25519 key pair: the private key for AOL_SIGNING_KEY, the public key for auditors',
    )
    .option('--json', 'print {signing_key, public_key, key_id}')
    .action((o: { json?: boolean }) => {
      const k = generateSigningKeyPair();
      if (o.json) {
        console.log(
          JSON.stringify({ signing_key: k.signingKey, public_key: k.publicKey, key_id: k.keyId }),
        );
        return;
      }
      console.log(
        '# private key: set it as AOL_SIGNING_KEY in the API, worker and CLI environment only; keep it secret',
      );
      console.log(`AOL_SIGNING_KEY=${k.signingKey}`);
      console.log(`# public key (key id ${k.keyId}): give it to auditors, for`);
      console.log(
        '#   aol events verify --public-key KEY   and   GET /events/verify?public_key=KEY',
      );
      console.log(k.publicKey);
    });
}
