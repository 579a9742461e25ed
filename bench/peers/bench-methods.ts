/**
 * The bench.v1.Bench methods (bench/bench.ridl) as this peer serves them:
 * checks each decoded request against its schema (a struct is a msgpack map
 * keyed by field id, docs/ENCODING.md; unknown ids are ignored, a missing or
 * mistyped field is INVALID_ARGUMENT naming the field path) and builds the
 * reply. Reply maps are reused: the caller packs a reply before the next call.
 * Owns message shapes only; no frames, no sockets.
 */

/** A request that does not match its schema; `path` names the field. */
export class InvalidArgument extends Error {
  override readonly name = "InvalidArgument";
  readonly code = "INVALID_ARGUMENT";
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(path === "" ? detail : `${path}: ${detail}`);
  }
}

const I32_MIN = -0x80000000;
const I32_MAX = 0x7fffffff;
const U32_MAX = 0xffffffff;

function kind(v: unknown): string {
  if (v === null) return "nil";
  if (v instanceof Uint8Array) return "bin";
  if (v instanceof Map) return "map";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function asStruct(v: unknown, path: string): Map<unknown, unknown> {
  if (v instanceof Map) return v;
  throw new InvalidArgument(path, `expected a struct (map keyed by field id), found ${kind(v)}`);
}

function missing(path: string, name: string, id: number): InvalidArgument {
  return new InvalidArgument(path, `required field ${name} (id ${id}) is missing`);
}

function fieldPath(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

function bytesField(m: Map<unknown, unknown>, id: number, name: string, path: string): Uint8Array {
  const v = m.get(id);
  if (v instanceof Uint8Array) return v;
  if (v === undefined) throw missing(path, name, id);
  throw new InvalidArgument(fieldPath(path, name), `expected bytes, found ${kind(v)}`);
}

function stringField(m: Map<unknown, unknown>, id: number, name: string, path: string): string {
  const v = m.get(id);
  if (typeof v === "string") return v;
  if (v === undefined) throw missing(path, name, id);
  throw new InvalidArgument(fieldPath(path, name), `expected string, found ${kind(v)}`);
}

function intField(m: Map<unknown, unknown>, id: number, name: string, path: string, min: number, max: number, type: string): number {
  const v = m.get(id);
  if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
  if (v === undefined) throw missing(path, name, id);
  throw new InvalidArgument(fieldPath(path, name), `expected ${type}, found ${typeof v === "number" ? String(v) : kind(v)}`);
}

function f64Field(m: Map<unknown, unknown>, id: number, name: string, path: string): number {
  const v = m.get(id);
  if (typeof v === "number") return v;
  if (v === undefined) throw missing(path, name, id);
  throw new InvalidArgument(fieldPath(path, name), `expected f64, found ${kind(v)}`);
}

function checkStringList(v: unknown, path: string): void {
  if (!Array.isArray(v)) throw new InvalidArgument(path, `expected list<string>, found ${kind(v)}`);
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== "string") throw new InvalidArgument(`${path}[${i}]`, `expected string, found ${kind(v[i])}`);
  }
}

function checkStringMap(v: unknown, path: string): void {
  if (!(v instanceof Map)) throw new InvalidArgument(path, `expected map<string, string>, found ${kind(v)}`);
  for (const [k, val] of v) {
    if (typeof k !== "string") throw new InvalidArgument(path, `expected string keys, found ${kind(k)}`);
    if (typeof val !== "string") throw new InvalidArgument(`${path}[${JSON.stringify(k)}]`, `expected string, found ${kind(val)}`);
  }
}

const ITEM_FIELDS = 6;

/**
 * Checks one bench.v1.Item; returns it ready to send back: the decoded Map
 * itself, or a copy without the unknown field ids it carried (a generated
 * codec would not re-encode those either).
 */
function checkItem(v: unknown, path: string): Map<unknown, unknown> {
  const m = asStruct(v, path);
  const id = intField(m, 1, "id", path, 0, U32_MAX, "u32");
  const name = stringField(m, 2, "name", path);
  const price = f64Field(m, 3, "price", path);
  const quantity = intField(m, 4, "quantity", path, 0, U32_MAX, "u32");
  const tags = m.get(5);
  if (tags === undefined) throw missing(path, "tags", 5);
  checkStringList(tags, fieldPath(path, "tags"));
  const attrs = m.get(6);
  if (attrs === undefined) throw missing(path, "attrs", 6);
  checkStringMap(attrs, fieldPath(path, "attrs"));
  if (m.size === ITEM_FIELDS) return m;
  return new Map<number, unknown>([[1, id], [2, name], [3, price], [4, quantity], [5, tags], [6, attrs]]);
}

const echoReply = new Map<number, unknown>([[1, null]]);
const textReply = new Map<number, unknown>([[1, null]]);
const addReply = new Map<number, unknown>([[1, 0]]);
const orderReply = new Map<number, unknown>([[1, ""], [2, 0], [3, 0], [4, null]]);

function echo(msg: unknown): Map<number, unknown> {
  echoReply.set(1, bytesField(asStruct(msg, ""), 1, "data", ""));
  return echoReply;
}

function echoText(msg: unknown): Map<number, unknown> {
  textReply.set(1, stringField(asStruct(msg, ""), 1, "text", ""));
  return textReply;
}

function add(msg: unknown): Map<number, unknown> {
  const m = asStruct(msg, "");
  const a = intField(m, 1, "a", "", I32_MIN, I32_MAX, "i32");
  const b = intField(m, 2, "b", "", I32_MIN, I32_MAX, "i32");
  // i64 on the wire must be a msgpack int: msgpackr writes a number outside
  // the 32-bit ranges as float64, so those sums travel as BigInt (int64).
  const sum = a + b;
  addReply.set(1, sum > 0xffffffff || sum < -0x80000000 ? BigInt(sum) : sum);
  return addReply;
}

function order(msg: unknown): Map<number, unknown> {
  const m = asStruct(msg, "");
  const customer = stringField(m, 1, "customer", "");
  const items = m.get(2);
  if (items === undefined) throw missing("", "items", 2);
  if (!Array.isArray(items)) throw new InvalidArgument("items", `expected list<Item>, found ${kind(items)}`);
  const note = m.get(3);
  if (note !== undefined && note !== null && typeof note !== "string") throw new InvalidArgument("note", `expected string, found ${kind(note)}`);
  let total = 0;
  for (let i = 0; i < items.length; i++) {
    const item = checkItem(items[i], `items[${i}]`);
    items[i] = item;
    total += (item.get(3) as number) * (item.get(4) as number);
  }
  orderReply.set(1, customer);
  orderReply.set(2, total);
  orderReply.set(3, items.length);
  // The validated items go back as decoded (Maps keyed by field id).
  orderReply.set(4, items as unknown[]);
  return orderReply;
}

/** A unary method: request message in, reply message out (packed before the next call). */
export type UnaryMethod = (msg: unknown) => Map<number, unknown>;

export const UNARY_METHODS: ReadonlyMap<string, UnaryMethod> = new Map<string, UnaryMethod>([
  ["bench.v1.Bench/echo", echo],
  ["bench.v1.Bench/echoText", echoText],
  ["bench.v1.Bench/add", add],
  ["bench.v1.Bench/order", order],
]);

export const TICKS_PATH = "bench.v1.Bench/ticks";

export interface TickRequest {
  count: number;
  size: number;
}

export function parseTickRequest(msg: unknown): TickRequest {
  const m = asStruct(msg, "");
  return {
    count: intField(m, 1, "count", "", 0, U32_MAX, "u32"),
    size: intField(m, 2, "size", "", 0, U32_MAX, "u32"),
  };
}

/**
 * Fills a tick's payload for tick `seq` (bench/bench.ridl): every byte is
 * `seq & 0xff`. Returns `payload`, so one buffer can be refilled per tick
 * as long as each tick is packed before the next fill.
 */
export function fillTickPayload(payload: Uint8Array, seq: number): Uint8Array {
  return payload.fill(seq & 0xff);
}
