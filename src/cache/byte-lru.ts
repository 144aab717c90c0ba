/**
 * A least-recently-used map bounded by bytes rather than by count: answers
 * range from a few hundred bytes to a megabyte, so a count limit would say
 * nothing about memory. Map keeps insertion order; a read re-inserts its
 * key, so the first key is always the least recently used one.
 */

interface Slot<V> {
  readonly value: V;
  readonly bytes: number;
  /** ms since epoch. */
  readonly expiresAt: number;
}

export class ByteLru<V> {
  private readonly slots = new Map<string, Slot<V>>();
  private total = 0;
  private evicted = 0;

  constructor(readonly maxBytes: number) {}

  get(key: string, now = Date.now()): V | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    this.slots.delete(key);
    if (slot.expiresAt <= now) {
      this.total -= slot.bytes;
      return undefined;
    }
    this.slots.set(key, slot);
    return slot.value;
  }

  /** Keeps `value` (evicting the least recently used until it fits); false when it alone is over the bound. */
  set(key: string, value: V, bytes: number, expiresAt: number): boolean {
    this.delete(key);
    if (bytes > this.maxBytes) return false;
    this.total += bytes;
    this.slots.set(key, { value, bytes, expiresAt });
    for (const [oldest, slot] of this.slots) {
      if (this.total <= this.maxBytes) break;
      this.slots.delete(oldest);
      this.total -= slot.bytes;
      this.evicted++;
    }
    return true;
  }

  delete(key: string): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.slots.delete(key);
    this.total -= slot.bytes;
  }

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.slots.size;
  }

  /** Entries pushed out to make room (expired ones are not counted). */
  get evictions(): number {
    return this.evicted;
  }
}
