/**
 * Type-level tests of generated code: this file is part of the tsc project
 * (`npm run typecheck`) and never runs. Every `@ts-expect-error` line must
 * stay an error; if generated types loosen (any, missing checks), tsc fails
 * with "Unused '@ts-expect-error' directive".
 */
import type { UnknownEnum, UnknownVariant } from "../../src/codec/index.ts";
import type { CallContext, CallInvoker, MessageType, ServiceBinding, ServiceDescriptor } from "../../src/rpc/index.ts";
import {
  type ChatMsg, type Chunk, type Entry, type Event, type GetReply, type GetRequest, KeyNotFound, KeyNotFoundType, KeyValue,
  KeyValueClient, type KeyValueHandlers, Origin, type PutReply, type PutRequest, type UploadReply, type WatchRequest,
  bindKeyValue, ChangeSchema, EntrySchema, EntryType, MAX_KEY_BYTES, OriginSchema,
} from "../../examples/kv/gen/kv.ts";
import type { z } from "../../src/zod.ts";
import * as kv from "../../examples/kv/gen/kv.ts";
import * as all from "../codegen/golden/all/expected/main.ts";

// ---- message types: exact optional semantics, bigint/Date/Uint8Array mapping
const entry: Entry = { key: "k", value: new Uint8Array(1), version: 1n, updated_at: new Date() };
const minimal: Entry = { key: "k", value: new Uint8Array(0) };
const explicitUndefined: Entry = { key: "k", value: new Uint8Array(0), version: undefined };
// @ts-expect-error wrong field type: version is a bigint
const wrongType: Entry = { key: "k", value: new Uint8Array(0), version: 1 };
// @ts-expect-error missing required field value
const missing: Entry = { key: "k" };
// @ts-expect-error unknown field
const extra: Entry = { key: "k", value: new Uint8Array(0), nope: 1 };
const origin: Origin = Origin.ORIGIN_CLIENT;
// @ts-expect-error 7 is not an Origin
const badOrigin: Origin = 7;
const maxKey: 1024 = MAX_KEY_BYTES;

// ---- unions are discriminated by kind
const change: Event["change"] = { kind: "deleted", value: "k" };
// @ts-expect-error the put variant carries an Entry, not a string
const badChange: Event["change"] = { kind: "put", value: "k" };
function describeChange(c: Event["change"]): string {
  switch (c.kind) {
    case "put": return c.value.key;
    case "deleted": return c.value;
    case "$unknown": return `variant ${c.id} (${c.raw.length} bytes)`;
  }
}

// ---- open enums and unions: what a newer peer added must be handled
// @ts-expect-error Change is open: without a "$unknown" branch the switch is not exhaustive
function forgetsUnknown(c: Event["change"]): string {
  switch (c.kind) {
    case "put": return c.value.key;
    case "deleted": return c.value;
  }
}
const unknownChange: Event["change"] = { kind: "$unknown", id: 9, raw: new Uint8Array([0xc0]) };
// @ts-expect-error an unknown variant carries its bytes
const rawless: Event["change"] = { kind: "$unknown", id: 9 };
function originName(o: Origin): string {
  switch (o) {
    case Origin.ORIGIN_UNKNOWN: return "unknown";
    case Origin.ORIGIN_CLIENT: return "client";
    case Origin.ORIGIN_REPLICATION: return "replication";
    default: {
      const n: UnknownEnum = o;
      return `origin ${n}`;
    }
  }
}
function originExhaustive(o: Origin): void {
  if (o === Origin.ORIGIN_UNKNOWN || o === Origin.ORIGIN_CLIENT || o === Origin.ORIGIN_REPLICATION) return;
  // @ts-expect-error Origin is open: an unknown number is left after every member
  const never: never = o;
  void never;
}
const originNumber: number = origin;
const originSchema: z.ZodType<Origin> = OriginSchema;
const changeSchema: z.ZodType<Event["change"]> = ChangeSchema;
const asUnknown: UnknownVariant | undefined = unknownChange.kind === "$unknown" ? unknownChange : undefined;

// ---- [closed] types: no unknown branch
function levelName(l: all.Level): string {
  switch (l) {
    case all.Level.LEVEL_LOW: return "low";
    case all.Level.LEVEL_HIGH: return "high";
  }
}
function strictText(s: all.Strict): string {
  switch (s.kind) {
    case "level": return levelName(s.value);
    case "text": return s.value;
  }
}
// @ts-expect-error a closed union has no "$unknown" kind
const strictUnknown: all.Strict = { kind: "$unknown", id: 9, raw: new Uint8Array([0xc0]) };
// @ts-expect-error 5 is not a Level
const badLevel: all.Level = 5;

// ---- maps: string keys are Records, integer keys are Maps
const containers: all.Containers = {
  names: [], points: [], matrix: [[1]], by_name: { a: { x: 1, y: 2 } }, by_id: new Map([[1, "one"]]),
  by_big_id: new Map([[1n, [true]]]), nested: { a: new Map([[1n, new Uint8Array(0)]]) }, colors: [all.FAVOURITE], shapes: [],
};
// @ts-expect-error by_id is keyed by number, not bigint
const badContainers: all.Containers = { ...containers, by_id: new Map([[1n, "one"]]) };

// ---- message type objects and schemas
const mt: MessageType<Entry> = EntryType;
// @ts-expect-error an Entry codec is not a PutReply codec (decode returns an Entry)
const wrongMt: MessageType<PutReply> = EntryType;
const parsed: Entry = EntrySchema.parse(entry);
const changeMt: MessageType<Event["change"]> = kv.ChangeType;
// @ts-expect-error codecs are module-private: encode through EntryType.encode
const privateEncoder = kv.encodeEntry;
// @ts-expect-error validators are module-private: check through EntryType.validate
const privateCheck = kv.checkEntry;

// ---- errors
const err = new KeyNotFound({ key: "k" });
const errKey: string = err.key;
const errCode: string = err.code;
// @ts-expect-error KeyNotFound needs its key field
const badErr = new KeyNotFound({});
const isKnf: boolean = KeyNotFoundType.is(err);
/** XType.is is a type guard: a caught `unknown` becomes the error class, fields included. */
function missingKey(e: unknown): string {
  if (KeyNotFoundType.is(e)) return e.key;
  // @ts-expect-error outside the guard e is still unknown
  return e.key;
}
const decodedErr: KeyNotFound = KeyNotFoundType.decode(null as never, "m");

// ---- server: a class implementing the handlers interface
class Impl implements KeyValueHandlers {
  get(req: GetRequest, _ctx: CallContext): GetReply {
    return { entry: { key: req.key, value: new Uint8Array(0) } };
  }
  async put(_req: PutRequest): Promise<PutReply> {
    return { version: 1n };
  }
  async *watch(_req: WatchRequest): AsyncIterable<Event> {
    yield { change: { kind: "deleted", value: "k" }, at: new Date() };
  }
  async upload(reqs: AsyncIterable<Chunk>): Promise<UploadReply> {
    let count = 0;
    for await (const c of reqs) count += c.entries.length;
    return { count };
  }
  *chat(_reqs: AsyncIterable<ChatMsg>): Iterable<ChatMsg> {
    yield { from: "a", text: "b" };
  }
}
const binding: ServiceBinding = bindKeyValue(new Impl(), { validate: false });
// ---- a partial implementation is explicit: what it leaves out is listed, and typed
const { watch: _leftOut, ...withoutWatch } = { get: Impl.prototype.get, put: Impl.prototype.put, watch: Impl.prototype.watch, upload: Impl.prototype.upload, chat: Impl.prototype.chat };
const partialBinding: ServiceBinding = bindKeyValue(withoutWatch, { unimplemented: ["watch"] });
// @ts-expect-error watch is missing from the impl and not listed as unimplemented
const silentlyPartial = bindKeyValue(withoutWatch);
// @ts-expect-error "nope" is not a method of kv.v1.KeyValue
const unknownListed = bindKeyValue(new Impl(), { unimplemented: ["nope"] });
// @ts-expect-error a handler returning the wrong type is rejected
const badImpl: KeyValueHandlers = { ...new Impl(), get: () => ({ entry: 1 }) };
const desc: ServiceDescriptor = KeyValue;
const path: string = KeyValue.methods.get.path;

// ---- client: typed methods only
async function useClient(invoker: CallInvoker): Promise<void> {
  const c = new KeyValueClient(invoker);
  const reply: GetReply = await c.get({ key: "k" }, { timeoutMs: 100 });
  for await (const ev of c.watch({ prefix: "" })) describeChange(ev.change);
  const up: UploadReply = await c.upload([{ entries: [entry] }]);
  for await (const m of c.chat([{ from: "a", text: "b" }])) void m.text;
  // @ts-expect-error no such method on the client
  await c.delete({ key: "k" });
  // @ts-expect-error get takes a GetRequest
  await c.get({ prefix: "" });
  // @ts-expect-error get resolves to a GetReply, not an Entry
  const wrong: Entry = await c.get({ key: "k" });
  void [reply, up, wrong];
}

export const used = [
  entry, minimal, explicitUndefined, wrongType, missing, extra, origin, badOrigin, maxKey, change, badChange, containers,
  forgetsUnknown, unknownChange, rawless, originName, originExhaustive, originNumber, originSchema, changeSchema, asUnknown,
  strictText, strictUnknown, badLevel,
  badContainers, mt, wrongMt, parsed, errKey, errCode, badErr, isKnf, missingKey, decodedErr, binding, badImpl, desc, path, useClient,
];
