/**
 * sr25519 secret URIs, read the way `new Keyring({ type: 'sr25519' }).addFromUri(uri)`
 * reads them: `//Alice` (dev phrase + path), `<mnemonic>[//hard/soft][///password]`,
 * or a `0x` 32-byte seed (optionally followed by a path).
 *
 * Parsing (cheap: syntax and the mnemonic's checksum) is separate from
 * deriving (a 2048-round PBKDF2 for mnemonics) so that configuration can
 * refuse a bad GATEWAY_HOTKEY_URI by name without paying for the derivation
 * the signer does anyway; both go through `parseSecretUri`, so what the
 * configuration accepts is exactly what the signer can derive.
 */
import { DEV_PHRASE } from '@polkadot/keyring';
import { hexToU8a, isHex } from '@polkadot/util';
import {
  keyExtractSuri,
  keyFromPath,
  mnemonicToMiniSecret,
  mnemonicValidate,
  sr25519PairFromSeed,
} from '@polkadot/util-crypto';

const MNEMONIC_WORD_COUNTS = new Set([12, 15, 18, 21, 24]);

export interface Sr25519Keypair {
  readonly publicKey: Uint8Array;
  /** 64-byte schnorrkel secret (ed25519-expanded key + nonce), the format wasm-crypto and @scure/sr25519 share. */
  readonly secretKey: Uint8Array;
}

/** A secret URI taken apart: where the seed comes from, and the derivation path after it. */
export interface ParsedSecretUri {
  readonly seed: { readonly kind: 'hex'; readonly hex: string } | { readonly kind: 'mnemonic'; readonly phrase: string; readonly password: string };
  readonly path: ReturnType<typeof keyExtractSuri>['path'];
}

/**
 * Checks a secret URI without deriving anything. Throws with a message that
 * never contains the URI (it is a secret and errors end up in logs). Unlike
 * Keyring, a short non-mnemonic string is rejected instead of being
 * space-padded into a seed: for a gateway hotkey that is almost certainly a mistake.
 */
export function parseSecretUri(secretUri: string): ParsedSecretUri {
  const suri = secretUri.startsWith('//') ? `${DEV_PHRASE}${secretUri}` : secretUri;
  let parts: ReturnType<typeof keyExtractSuri>;
  try {
    parts = keyExtractSuri(suri);
  } catch {
    throw new Error('not a secret URI: expected <mnemonic or 0x seed>[//hard][/soft][///password]');
  }
  const { password, path, phrase } = parts;
  if (isHex(phrase, 256)) return { seed: { kind: 'hex', hex: phrase }, path };
  if (!MNEMONIC_WORD_COUNTS.has(phrase.split(' ').length)) {
    throw new Error('secret URI must be a dev URI (//Name), a BIP39 mnemonic, or a 0x-prefixed 32-byte hex seed');
  }
  if (!mnemonicValidate(phrase)) throw new Error('invalid BIP39 mnemonic: an unknown word or a bad checksum');
  return { seed: { kind: 'mnemonic', phrase, password: password ?? '' }, path };
}

/** Derives the sr25519 keypair a secret URI names (see `parseSecretUri` for the forms). */
export function sr25519KeypairFromUri(secretUri: string): Sr25519Keypair {
  const { seed, path } = parseSecretUri(secretUri);
  const miniSecret = seed.kind === 'hex' ? hexToU8a(seed.hex) : mnemonicToMiniSecret(seed.phrase, seed.password);
  const derived = keyFromPath(sr25519PairFromSeed(miniSecret), path, 'sr25519');
  return { publicKey: derived.publicKey, secretKey: derived.secretKey };
}
