/**
 * Multi-valued metadata (docs/RPC.md, "Metadata"): MetadataMap, the
 * gRPC-like view with get/getAll/add/set, and the way a plain `Metadata`
 * record carries a key's further values. A record shows a key's first value
 * under the key (as it always has) and keeps every value of each key that
 * has several in one symbol-keyed property, so records keep their type,
 * spread copies the extra values along, and overriding a key in a copy
 * replaces its values. Owns no wire format (metadata.ts does).
 */
/** The record form (descriptor.ts names it Metadata; spelled out here so the two files do not import each other). */
type Metadata = Record<string, string | Uint8Array>;

export type MetadataValue = string | Uint8Array;

/**
 * Where a record keeps the values of its keys that have several: key to
 * every value, the first being the one the record shows. Enumerable, so
 * `{ ...md }` keeps them; a symbol, so Object.keys, for-in and JSON do not
 * see it.
 */
export const ALL_VALUES: unique symbol = Symbol("ringrpc.metadata.allValues");

type WithValues = Metadata & { [ALL_VALUES]?: ReadonlyMap<string, readonly MetadataValue[]> };

/** Every value of `key` in record `md`, first included; undefined when it has none. */
export function recordValues(md: Metadata, key: string): readonly MetadataValue[] | undefined {
  const first = md[key];
  if (first === undefined) return undefined;
  const all = (md as WithValues)[ALL_VALUES]?.get(key);
  // A key reassigned in the record (or in a copy of it) no longer shows its old first value: its one value is the new one.
  return all !== undefined && all[0] === first ? all : [first];
}

/** The several values of keys that have more than one in `md`, if any (what metadata.ts writes as arrays). */
export function extraValues(md: Metadata): ReadonlyMap<string, readonly MetadataValue[]> | undefined {
  return (md as WithValues)[ALL_VALUES];
}

/** Attaches `all` (keys with several values) to the record `md`, whose keys show the first values. */
export function attachValues(md: Metadata, all: Map<string, MetadataValue[]>): Metadata {
  (md as WithValues)[ALL_VALUES] = all;
  return md;
}

/** A key is 1-255 bytes of [a-z0-9._-]. */
export function isValidMetadataKey(key: string): boolean {
  const n = key.length;
  if (n === 0 || n > 255) return false;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f || c === 0x2d;
    if (!ok) return false;
  }
  return true;
}

function checkEntry(key: string, value: MetadataValue): void {
  if (!isValidMetadataKey(key)) throw new TypeError(`invalid metadata key ${JSON.stringify(key)}: keys are 1-255 bytes of [a-z0-9._-]`);
  if (typeof value !== "string" && !(value instanceof Uint8Array)) throw new TypeError(`metadata value of ${JSON.stringify(key)} must be a string or a Uint8Array`);
}

/**
 * Metadata with any number of values per key, in order, like gRPC's
 * Metadata. `get` is the first value (what the record form shows), `getAll`
 * every value, `add` appends, `set` replaces. Keys are checked when added.
 * A MetadataMap is not a record: `toRecord()` makes one to pass where a
 * `Metadata` goes (call options), and `MetadataMap.from(record)` reads every
 * value of a record ringrpc handed over (request metadata, headers,
 * trailers, an error's metadata).
 */
export class MetadataMap {
  private readonly values: Map<string, MetadataValue[]>;

  constructor() {
    this.values = new Map();
  }

  /** Every value of every key of `md` (a record, with the values it keeps; or another map, copied). */
  static from(md: Metadata | MetadataMap | undefined | null): MetadataMap {
    const m = new MetadataMap();
    if (md === undefined || md === null) return m;
    if (md instanceof MetadataMap) {
      for (const [k, vs] of md.values) m.values.set(k, vs.slice());
      return m;
    }
    // Not checked: a record ringrpc received was checked on arrival, and one an application built is checked by whoever receives it.
    for (const k of Object.keys(md)) m.values.set(k, recordValues(md, k)!.slice());
    return m;
  }

  /** The first value of `key`, or undefined. */
  get(key: string): MetadataValue | undefined {
    const vs = this.values.get(key);
    return vs === undefined ? undefined : vs[0];
  }

  /** Every value of `key`, in order (empty when it has none). */
  getAll(key: string): MetadataValue[] {
    const vs = this.values.get(key);
    return vs === undefined ? [] : vs.slice();
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  /** Appends a value to `key`. */
  add(key: string, value: MetadataValue): this {
    checkEntry(key, value);
    const vs = this.values.get(key);
    if (vs === undefined) this.values.set(key, [value]);
    else vs.push(value);
    return this;
  }

  /** Replaces every value of `key` with `value` (an array: with these values; an empty one removes the key). */
  set(key: string, value: MetadataValue | readonly MetadataValue[]): this {
    const vs = typeof value === "string" || value instanceof Uint8Array ? [value] : [...value];
    for (const v of vs) checkEntry(key, v);
    if (vs.length === 0) this.values.delete(key);
    else this.values.set(key, vs);
    return this;
  }

  delete(key: string): boolean {
    return this.values.delete(key);
  }

  /** Keys with at least one value. */
  get size(): number {
    return this.values.size;
  }

  keys(): IterableIterator<string> {
    return this.values.keys();
  }

  /** [key, every value] pairs, in the order keys were first set. */
  *entries(): IterableIterator<[string, MetadataValue[]]> {
    for (const [k, vs] of this.values) yield [k, vs.slice()];
  }

  /** A record: the first value under each key, every value kept (docs/RPC.md, "Metadata"). */
  toRecord(): Metadata {
    const md: Metadata = {};
    let multi: Map<string, MetadataValue[]> | null = null;
    for (const [k, vs] of this.values) {
      md[k] = vs[0]!;
      if (vs.length > 1) (multi ??= new Map()).set(k, vs.slice());
    }
    return multi === null ? md : attachValues(md, multi);
  }

  /** The values of one key, not copied (for the metadata writer). */
  valuesOf(key: string): readonly MetadataValue[] | undefined {
    return this.values.get(key);
  }
}
