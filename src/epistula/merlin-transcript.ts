/**
 * The Merlin transcript (STROBE-128 over Keccak-f[1600]) that sr25519 hashes
 * a signature's challenge with: only the operations schnorrkel's signing
 * uses (meta-AD, AD, PRF), as in @scure/sr25519, the audited pure-JS port
 * that @polkadot/util-crypto ships. Kept here because the challenge is the
 * one part of a signature that must be computed per message: the gateway
 * signs with a nonce point computed ahead of time (see
 * sr25519-nonce-signing.ts) and only hashes on the request path.
 */
import { keccakF1600 } from './keccak-f1600.js';

const RATE = 166;
const FLAG_I = 1;
const FLAG_A = 2;
const FLAG_C = 4;
const FLAG_M = 16;
const FLAG_K = 32;

const utf8 = (text: string) => new TextEncoder().encode(text);

function u32le(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
}

export class MerlinTranscript {
  private readonly state = new Uint8Array(200);
  private readonly words = new Uint32Array(this.state.buffer);
  private pos = 0;
  private posBegin = 0;

  /** A transcript after `Merlin v1.0` and its domain separator. */
  static start(domain: string): MerlinTranscript {
    const t = new MerlinTranscript();
    t.state.set([1, RATE + 2, 1, 0, 1, 96], 0);
    t.state.set(utf8('STROBEv1.0.2'), 6);
    keccakF1600(t.words);
    t.metaAD(utf8('Merlin v1.0'), false);
    t.append(utf8('dom-sep'), utf8(domain));
    return t;
  }

  /** An independent copy: a constant prefix is computed once and cloned per signature. */
  clone(): MerlinTranscript {
    const t = new MerlinTranscript();
    t.state.set(this.state);
    t.pos = this.pos;
    t.posBegin = this.posBegin;
    return t;
  }

  append(label: Uint8Array, message: Uint8Array): void {
    this.metaAD(label, false);
    this.metaAD(u32le(message.length), true);
    this.beginOp(FLAG_A);
    this.absorb(message);
  }

  challengeBytes(label: Uint8Array, length: number): Uint8Array {
    this.metaAD(label, false);
    this.metaAD(u32le(length), true);
    this.beginOp(FLAG_I | FLAG_A | FLAG_C);
    return this.squeeze(length);
  }

  /** Overwrites the state: nothing of a used transcript stays in memory. */
  wipe(): void {
    this.state.fill(0);
  }

  private metaAD(data: Uint8Array, more: boolean): void {
    if (!more) this.beginOp(FLAG_M | FLAG_A);
    this.absorb(data);
  }

  private beginOp(flags: number): void {
    const oldBegin = this.posBegin;
    this.posBegin = this.pos + 1;
    this.absorb(Uint8Array.of(oldBegin, flags));
    if ((flags & (FLAG_C | FLAG_K)) !== 0 && this.pos !== 0) this.runF();
  }

  private runF(): void {
    const s = this.state;
    s[this.pos] = s[this.pos]! ^ this.posBegin;
    s[this.pos + 1] = s[this.pos + 1]! ^ 0x04;
    s[RATE + 1] = s[RATE + 1]! ^ 0x80;
    keccakF1600(this.words);
    this.pos = 0;
    this.posBegin = 0;
  }

  private absorb(data: Uint8Array): void {
    const s = this.state;
    for (let i = 0; i < data.length; i++) {
      s[this.pos] = s[this.pos]! ^ data[i]!;
      if (++this.pos === RATE) this.runF();
    }
  }

  private squeeze(length: number): Uint8Array {
    const s = this.state;
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      out[i] = s[this.pos]!;
      s[this.pos] = 0;
      if (++this.pos === RATE) this.runF();
    }
    return out;
  }
}
