import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  sign,
  verify,
} from 'node:crypto';

/**
 * Ed25519 keys for signed checkpoints (docs/checkpoints.md). The private key
 * lives only in the API/worker/CLI environment (AOL_SIGNING_KEY), never in the
 * database, so a database owner who rewrites the log cannot sign a matching
 * head. Accepted forms:
 *
 * - private: PKCS#8 PEM, or base64 of the 32-byte seed (what `aol keys
 *   generate` prints);
 * - public: base64url of the 32 raw bytes (what `aol keys generate` prints; a
 *   standard base64 form is accepted too, with a `+` a query string turned
 *   into a space restored), or an SPKI PEM.
 */
export class KeyFormatError extends Error {}

// DER prefixes of an Ed25519 PKCS#8 private key and SPKI public key (RFC 8410);
// the 32 key bytes follow.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function base64Bytes(text: string): Buffer | undefined {
  const t = text.trim().replace(/ /g, '+');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return undefined;
  return Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function requireEd25519(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyFormatError(`is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key, not Ed25519`);
  }
  return key;
}

/** Parse AOL_SIGNING_KEY. The message never contains the value. */
export function parsePrivateKey(text: string): KeyObject {
  const t = text.trim().replace(/\\n/g, '\n');
  if (t.includes('-----BEGIN')) {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: t, format: 'pem' });
    } catch {
      throw new KeyFormatError('is not a readable PKCS#8 PEM private key');
    }
    return requireEd25519(key);
  }
  const seed = base64Bytes(t);
  if (!seed || seed.length !== 32) {
    throw new KeyFormatError(
      'must be a PKCS#8 PEM Ed25519 private key or base64 of its 32-byte seed (aol keys generate prints one)',
    );
  }
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
}

/** Parse a public key in the form `aol keys generate` prints, or an SPKI PEM. */
export function parsePublicKey(text: string): KeyObject {
  const t = text.trim().replace(/\\n/g, '\n');
  if (t.includes('-----BEGIN')) {
    try {
      return requireEd25519(createPublicKey({ key: t, format: 'pem' }));
    } catch (err) {
      if (err instanceof KeyFormatError) throw err;
      throw new KeyFormatError('is not a readable SPKI PEM public key');
    }
  }
  const raw = base64Bytes(t);
  if (!raw || raw.length !== 32) {
    throw new KeyFormatError(
      'must be an Ed25519 public key as `aol keys generate` prints it (base64url of 32 bytes) or an SPKI PEM',
    );
  }
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

function rawPublic(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

/** The public key in the one-line form --public-key and ?public_key= accept. */
export function formatPublicKey(key: KeyObject): string {
  return rawPublic(key).toString('base64url');
}

/** A short, stable name for a key: the first 16 hex digits of SHA-256 of its raw public bytes. */
export function keyId(key: KeyObject): string {
  return createHash('sha256').update(rawPublic(key)).digest('hex').slice(0, 16);
}

export type KeyPair = Readonly<{ signingKey: string; publicKey: string; keyId: string }>;

/** A new key pair: the private key as base64 of its seed (for AOL_SIGNING_KEY), the public key as printed. */
export function generateSigningKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    signingKey: der.subarray(PKCS8_PREFIX.length).toString('base64'),
    publicKey: formatPublicKey(privateKey),
    keyId: keyId(privateKey),
  };
}

/** What a checkpoint signs: the head of the log. */
export type SignedHead = Readonly<{ seq: number; hash: string; occurred_at: string }>;

/**
 * The exact bytes signed. The prefix separates checkpoint signatures from
 * anything else the key might ever sign; the fields are fixed-order text, so
 * no JSON canonicalisation question arises.
 */
export function checkpointMessage(h: SignedHead): Buffer {
  return Buffer.from(`aol-checkpoint-v1\n${h.seq}\n${h.hash}\n${h.occurred_at}`, 'utf8');
}

export function signHead(key: KeyObject, h: SignedHead): string {
  return sign(null, checkpointMessage(h), key).toString('base64');
}

export function verifyHead(key: KeyObject, h: SignedHead, signature: string): boolean {
  const sig = Buffer.from(signature, 'base64');
  if (sig.length !== 64) return false;
  try {
    return verify(null, checkpointMessage(h), key, sig);
  } catch {
    return false;
  }
}

/**
 * The exact bytes an archive manifest's signature covers: a prefix of its own
 * (so no manifest signature can pass for a checkpoint's, or the reverse) and
 * the manifest's canonical text without its signature (src/events/archive.ts).
 */
export function manifestMessage(canonicalBody: string): Buffer {
  return Buffer.from(`aol-archive-manifest-v1\n${canonicalBody}`, 'utf8');
}

export function signManifest(key: KeyObject, canonicalBody: string): string {
  return sign(null, manifestMessage(canonicalBody), key).toString('base64');
}

export function verifyManifest(key: KeyObject, canonicalBody: string, signature: string): boolean {
  const sig = Buffer.from(signature, 'base64');
  if (sig.length !== 64) return false;
  try {
    return verify(null, manifestMessage(canonicalBody), key, sig);
  } catch {
    return false;
  }
}
