/**
 * CallTable: a client connection's open calls by call id, without a Map
 * entry per call. Ids are handed out in sequence, so `id & mask` spreads the
 * open calls over a power-of-two array: set, get and delete touch one slot
 * and allocate nothing. A call whose slot still holds an older open call (a
 * long stream the ids have lapped) goes to a small overflow Map instead. The
 * array doubles when it is half full. Owns lookup only, not call state.
 */

const INITIAL_SLOTS = 64;

export interface HasCallId {
  readonly id: number;
}

export class CallTable<T extends HasCallId> {
  /** Open calls. */
  size: number;
  private slots: (T | undefined)[];
  private mask: number;
  private readonly overflow: Map<number, T>;

  constructor() {
    this.size = 0;
    this.slots = new Array<T | undefined>(INITIAL_SLOTS).fill(undefined);
    this.mask = INITIAL_SLOTS - 1;
    this.overflow = new Map();
  }

  get(id: number): T | undefined {
    const c = this.slots[id & this.mask];
    if (c !== undefined && c.id === id) return c;
    return this.overflow.size === 0 ? undefined : this.overflow.get(id);
  }

  /** Adds a call; its id must not be open already. */
  add(call: T): void {
    if (this.size >= this.slots.length >>> 1) this.grow();
    this.size++;
    this.place(call);
  }

  /** Removes this very call (not another call with its id); false when it is not in the table. */
  remove(call: T): boolean {
    const i = call.id & this.mask;
    if (this.slots[i] === call) {
      this.slots[i] = undefined;
      this.size--;
      return true;
    }
    if (this.overflow.size > 0 && this.overflow.get(call.id) === call) {
      this.overflow.delete(call.id);
      this.size--;
      return true;
    }
    return false;
  }

  /** Every open call, in no particular order (a copy: safe to change the table while walking it). */
  values(): T[] {
    const out: T[] = [];
    for (const c of this.slots) if (c !== undefined) out.push(c);
    for (const c of this.overflow.values()) out.push(c);
    return out;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.overflow.clear();
    this.size = 0;
  }

  private place(call: T): void {
    const i = call.id & this.mask;
    if (this.slots[i] === undefined) this.slots[i] = call;
    else this.overflow.set(call.id, call);
  }

  private grow(): void {
    const calls = this.values();
    const n = this.slots.length * 2;
    this.slots = new Array<T | undefined>(n).fill(undefined);
    this.mask = n - 1;
    this.overflow.clear();
    for (const c of calls) this.place(c);
  }
}
