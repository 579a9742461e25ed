/**
 * The codecs under fuzz: every struct, union and error of the three
 * generated IDLs (examples/kv, examples/chat, bench), each with its
 * generated encoder/decoder, its zod schema, its generated validator and a
 * source of random valid values (test/codegen/random-values.ts over the
 * compiled model). Also the services' methods, for building REQUESTs. Owns
 * the lookup from a model declaration to its generated exports, nothing else.
 */
import { join } from "node:path";
import type { z } from "zod";
import * as bench from "../../bench/gen/bench.ts";
import { declIdent } from "../../codegen/names.ts";
import * as chat from "../../examples/chat/gen/chat.ts";
import * as kv from "../../examples/kv/gen/kv.ts";
import { compile } from "../../idl/index.ts";
import type { Decl, Model } from "../../idl/model.ts";
import type { MsgReader } from "../../src/codec/reader.ts";
import type { MsgWriter } from "../../src/codec/writer.ts";
import type { ErrorType, MessageType, MethodDescriptor, ServiceDescriptor, ValidationIssue } from "../../src/rpc/descriptor.ts";
import { RandomValues } from "../../test/codegen/random-values.ts";
import type { Rand } from "./prng.ts";

export interface CodecTarget {
  /** The qualified IDL name, e.g. "kv.v1.Entry". */
  readonly name: string;
  readonly kind: "struct" | "union" | "error";
  /** A random valid value (for errors: the fields object). */
  random(rand: Rand): unknown;
  encode(w: MsgWriter, v: unknown): void;
  decode(r: MsgReader): unknown;
  /** The value the schema and the equality check see (for errors: its fields). */
  view(decoded: unknown): unknown;
  readonly schema: z.ZodType;
  /** The generated structural validator (structs and unions), or null (errors have none). */
  readonly validate: ((v: unknown) => ValidationIssue | null) | null;
  /** The message type itself (structs and unions), for decodeInput; null for errors. */
  readonly messageType: MessageType<unknown> | null;
  /** The generated ErrorType (errors), for typed STATUS frames; null for structs and unions. */
  readonly errorType: ErrorType | null;
}

const root = join(import.meta.dir, "..", "..");

const IDLS: readonly { ridl: string; module: Record<string, unknown> }[] = [
  { ridl: "examples/kv/kv.ridl", module: kv as Record<string, unknown> },
  { ridl: "examples/chat/chat.ridl", module: chat as Record<string, unknown> },
  { ridl: "bench/bench.ridl", module: bench as Record<string, unknown> },
];

function modelOf(ridl: string): Model {
  const { model, diagnostics } = compile([join(root, ridl)]);
  if (model === null) throw new Error(`${ridl}: ${diagnostics.map((d) => d.message).join("; ")}`);
  return model;
}

function exported<T>(mod: Record<string, unknown>, name: string, of: string): T {
  const v = mod[name];
  if (v === undefined) throw new Error(`generated code of ${of} has no export ${name}`);
  return v as T;
}

function targetOf(model: Model, mod: Record<string, unknown>, d: Decl): CodecTarget | null {
  if (d.kind !== "struct" && d.kind !== "union" && d.kind !== "error") return null;
  const ident = declIdent(d.name);
  const schema = exported<z.ZodType>(mod, `${ident}Schema`, d.qualifiedName);
  const values = (rand: Rand) => new RandomValues(model, rand.next, 3);
  if (d.kind === "error") {
    const et = exported<ErrorType>(mod, `${ident}Type`, d.qualifiedName);
    const names = d.fields.map((f) => f.name);
    return {
      name: d.qualifiedName,
      kind: "error",
      random: (rand) => values(rand).struct(d),
      // The generated ErrorType reads the fields off the error object; a plain fields object has them too.
      encode: (w, v) => et.encode(w, v as never),
      decode: (r) => et.decode(r, "fuzz"),
      view: (e) => Object.fromEntries(names.map((n) => [n, (e as Record<string, unknown>)[n]])),
      schema,
      validate: null,
      messageType: null,
      errorType: et,
    };
  }
  const mt = exported<MessageType<unknown>>(mod, `${ident}Type`, d.qualifiedName);
  const ref = { kind: "ref", qualifiedName: d.qualifiedName, target: d.kind } as const;
  return {
    name: d.qualifiedName,
    kind: d.kind,
    random: (rand) => (d.kind === "struct" ? values(rand).struct(d) : values(rand).value(ref)),
    encode: (w, v) => mt.encode(w, v),
    decode: (r) => mt.decode(r),
    view: (v) => v,
    schema,
    validate: (v) => mt.validate(v),
    messageType: mt,
    errorType: null,
  };
}

export interface FuzzMethod {
  readonly method: MethodDescriptor;
  /** A random valid request message. */
  request(rand: Rand): unknown;
  /** A random valid response message. */
  response(rand: Rand): unknown;
}

let cached: { targets: CodecTarget[]; methods: FuzzMethod[]; errors: CodecTarget[] } | null = null;

function load(): NonNullable<typeof cached> {
  if (cached !== null) return cached;
  const targets: CodecTarget[] = [];
  const methods: FuzzMethod[] = [];
  for (const { ridl, module } of IDLS) {
    const model = modelOf(ridl);
    const own = model.decls.filter((d) => model.entryFiles.includes(d.pos.file));
    const byName = new Map<string, CodecTarget>();
    for (const d of own) {
      const t = targetOf(model, module, d);
      if (t !== null) {
        targets.push(t);
        byName.set(t.name, t);
      }
    }
    for (const s of model.services) {
      const desc = exported<ServiceDescriptor>(module, declIdent(s.name), s.qualifiedName);
      for (const m of s.methods) {
        const md = desc.methods[m.name];
        const input = byName.get(m.input);
        const output = byName.get(m.output);
        if (md === undefined || input === undefined || output === undefined) throw new Error(`no descriptor or codec for ${s.qualifiedName}/${m.name}`);
        methods.push({ method: md, request: (rand) => input.random(rand), response: (rand) => output.random(rand) });
      }
    }
  }
  cached = { targets, methods, errors: targets.filter((t) => t.kind === "error") };
  return cached;
}

/** Every struct, union and error of the three IDLs, in model order. */
export function codecTargets(): readonly CodecTarget[] {
  return load().targets;
}

/** Every method of the three IDLs' services. */
export function fuzzMethods(): readonly FuzzMethod[] {
  return load().methods;
}

/** The error types of the three IDLs (typed STATUS frames). */
export function errorTargets(): readonly CodecTarget[] {
  return load().errors;
}
