/**
 * The schema-driven codec: encodes and decodes any struct, union, error or
 * type of a resolved IDL model (idl/model.ts) at run time, for the tools
 * that call a service they have no generated code for (`ringrpc call`).
 * Values have exactly the shape generated code gives them (bigint for
 * i64/u64, Date, Uint8Array, Map for integer-keyed maps, `{ kind, value }`
 * unions; docs/CODEGEN.md, "Type mapping"), and every byte goes through the
 * same MsgWriter/MsgReader calls the generated codecs make, in the same
 * order, so both agree byte for byte (docs/ENCODING.md; test/cli/
 * dynamic-codec.test.ts checks it). Unlike generated encoders it checks each
 * value's type as it goes and names the bad field (EncodeValueError).
 * Open enums and unions behave as generated code's do: any i32 for an enum,
 * `{ kind: "$unknown", id, raw }` for a variant the model does not declare,
 * its bytes written back unchanged.
 */
import type { Decl, EnumDecl, ErrorDecl, Field, Model, ScalarName, StructDecl, TypeRef, UnionDecl, Value } from "../../../idl/index.ts";
import { DecodeError, MsgReader, MsgWriter, peerText, UNKNOWN_VARIANT_KIND, unknownVariantIssue } from "../../codec/index.ts";
import type { ErrorType, MessageType } from "../../rpc/descriptor.ts";
import { RpcError, Status } from "../../rpc/status.ts";
import { fieldPath, indexPath, keyPath } from "./value-path.ts";

/** A value that does not fit its IDL type; `path` names the field ("entries[2].key"). */
export class EncodeValueError extends Error {
  override readonly name = "EncodeValueError";
  readonly code = "ENCODE_VALUE";
  constructor(readonly path: string, readonly detail: string) {
    super(path === "" ? detail : `${path}: ${detail}`);
  }
}

/** A typed IDL error decoded without its generated class: its fields travel as a plain object. */
export class TypedErrorValue extends RpcError {
  override name = "TypedErrorValue";
  constructor(status: RpcError["status"], message: string, code: string, readonly fields: Record<string, unknown>) {
    super(status, message, code);
  }
}

type StructLike = StructDecl | ErrorDecl;

/** The largest field or variant id (docs/IDL.md): an unknown variant's id beyond it is no id at all. */
const MAX_VARIANT_ID = 2 ** 29 - 1;

const INT_RANGE: Partial<Record<ScalarName, readonly [number, number]>> = {
  i32: [-(2 ** 31), 2 ** 31 - 1],
  u32: [0, 2 ** 32 - 1],
};
const BIG_RANGE: Partial<Record<ScalarName, readonly [bigint, bigint]>> = {
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
  u64: [0n, 2n ** 64n - 1n],
};

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (v instanceof Uint8Array) return "bytes";
  if (v instanceof Date) return "a Date";
  if (v instanceof Map) return "a Map";
  return typeof v === "object" ? "an object" : `${typeof v} ${String(v)}`;
}

/** The JS value of an IDL default, as generated decoders fill it. */
export function defaultValue(v: Value, t: TypeRef): unknown {
  switch (v.kind) {
    case "int": return t.kind === "scalar" && (t.name === "i64" || t.name === "u64") ? v.value : Number(v.value);
    case "enum": return v.value;
    default: return v.value;
  }
}

export class DynamicCodec {
  constructor(readonly model: Model) {}

  /** The declaration named `qualifiedName`; throws when the model has none. */
  decl(qualifiedName: string): Decl {
    const d = this.model.byName.get(qualifiedName);
    if (d === undefined) throw new TypeError(`the IDL declares no ${qualifiedName}`);
    return d;
  }

  // ------------------------------------------------------------ encode

  encode(w: MsgWriter, t: TypeRef, v: unknown, path = ""): void {
    switch (t.kind) {
      case "scalar": return this.encodeScalar(w, t.name, v, path);
      case "list": {
        if (!Array.isArray(v)) throw new EncodeValueError(path, `expected an array, found ${describe(v)}`);
        w.arrayHeader(v.length);
        for (let i = 0; i < v.length; i++) this.encode(w, t.elem, v[i], indexPath(path, i));
        return;
      }
      case "map": {
        if (t.key.kind === "scalar" && t.key.name === "string") {
          if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Map) throw new EncodeValueError(path, `expected an object, found ${describe(v)}`);
          const m = v as Record<string, unknown>;
          const keys = Object.keys(m);
          w.mapHeader(keys.length);
          for (const k of keys) {
            w.str(k);
            this.encode(w, t.value, m[k], keyPath(path, k));
          }
          return;
        }
        if (!(v instanceof Map)) throw new EncodeValueError(path, `expected a Map, found ${describe(v)}`);
        w.mapHeader(v.size);
        for (const [k, e] of v) {
          this.encode(w, t.key, k, keyPath(path, k));
          this.encode(w, t.value, e, keyPath(path, k));
        }
        return;
      }
      case "ref": {
        const d = this.decl(t.qualifiedName);
        switch (d.kind) {
          case "enum": return this.encodeEnum(w, d, v, path);
          case "union": return this.encodeUnion(w, d, v, path);
          case "struct": case "error": return this.encodeStruct(w, d, v, path);
          default: throw new EncodeValueError(path, `${d.qualifiedName} is a ${d.kind}, not a type`);
        }
      }
    }
  }

  private encodeScalar(w: MsgWriter, name: ScalarName, v: unknown, path: string): void {
    const bad = (what: string) => new EncodeValueError(path, `expected ${what}, found ${describe(v)}`);
    switch (name) {
      case "bool":
        if (typeof v !== "boolean") throw bad("a boolean");
        return w.bool(v);
      case "i32": case "u32": {
        const [lo, hi] = INT_RANGE[name]!;
        if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) throw bad(`an integer in ${name} range`);
        return w.int(v);
      }
      case "i64": case "u64": {
        const [lo, hi] = BIG_RANGE[name]!;
        if (typeof v !== "bigint" || v < lo || v > hi) throw bad(`a bigint in ${name} range`);
        return name === "i64" ? w.i64(v) : w.u64(v);
      }
      case "f64":
        if (typeof v !== "number") throw bad("a number");
        return w.f64(v);
      case "string":
        if (typeof v !== "string") throw bad("a string");
        return w.str(v);
      case "bytes":
        if (!(v instanceof Uint8Array)) throw bad("bytes (a Uint8Array)");
        return w.bin(v);
      case "timestamp":
        if (!(v instanceof Date) || Number.isNaN(v.getTime())) throw bad("a valid Date");
        return w.timestamp(v);
    }
  }

  private encodeEnum(w: MsgWriter, d: EnumDecl, v: unknown, path: string): void {
    if (!d.closed) {
      if (typeof v !== "number" || (v | 0) !== v) throw new EncodeValueError(path, `expected a value of enum ${d.qualifiedName} (an i32: the enum is open), found ${describe(v)}`);
    } else if (typeof v !== "number" || !d.values.some((e) => e.value === v)) {
      throw new EncodeValueError(path, `expected a value of enum ${d.qualifiedName}, found ${describe(v)}`);
    }
    w.int(v);
  }

  private encodeUnion(w: MsgWriter, d: UnionDecl, v: unknown, path: string): void {
    const kind = typeof v === "object" && v !== null ? (v as { kind?: unknown }).kind : undefined;
    if (kind === UNKNOWN_VARIANT_KIND && !d.closed) return this.encodeUnknownVariant(w, d, v as object, path);
    const variant = d.variants.find((x) => x.name === kind);
    if (variant === undefined) throw new EncodeValueError(path, `expected a variant of union ${d.qualifiedName} (${d.variants.map((x) => x.name).join(", ")}), found ${typeof kind === "string" ? `"${kind}"` : describe(v)}`);
    w.mapHeader(1);
    w.int(variant.id);
    this.encode(w, variant.type, (v as { value?: unknown }).value, fieldPath(path, variant.name));
  }

  /** An open union's variant the model does not declare: its id and its bytes, as they were read. */
  private encodeUnknownVariant(w: MsgWriter, d: UnionDecl, v: object, path: string): void {
    const issue = unknownVariantIssue(v);
    if (issue !== null) throw new EncodeValueError(fieldPath(path, issue.path), issue.message);
    const { id, raw } = v as { id: number; raw: Uint8Array };
    const known = d.variants.find((x) => x.id === id);
    if (known !== undefined) throw new EncodeValueError(fieldPath(path, "id"), `variant id ${id} is "${known.name}" of union ${d.qualifiedName}: write it with that kind`);
    w.mapHeader(1);
    w.int(id);
    w.raw(raw);
  }

  /** A struct or an error's fields: a map keyed by field id, in ascending id order, absent optionals omitted. */
  encodeStruct(w: MsgWriter, d: StructLike, v: unknown, path = ""): void {
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new EncodeValueError(path, `expected an object (${d.qualifiedName}), found ${describe(v)}`);
    const o = v as Record<string, unknown>;
    const fields = sortedFields(d);
    let n = 0;
    for (const f of fields) {
      if (o[f.name] !== undefined) n++;
      else if (!f.optional) throw new EncodeValueError(fieldPath(path, f.name), `required field ${f.name} (id ${f.id}) is missing`);
    }
    w.mapHeader(n);
    for (const f of fields) {
      const fv = o[f.name];
      if (fv === undefined) continue;
      w.int(f.id);
      this.encode(w, f.type, fv, fieldPath(path, f.name));
    }
  }

  // ------------------------------------------------------------ decode

  decode(r: MsgReader, t: TypeRef): unknown {
    switch (t.kind) {
      case "scalar": return this.decodeScalar(r, t.name);
      case "list": {
        const n = r.arrayHeader();
        const a: unknown[] = [];
        for (let i = 0; i < n; i++) {
          try {
            a.push(this.decode(r, t.elem));
          } catch (err) {
            throw DecodeError.at(err, `[${i}]`);
          }
        }
        return a;
      }
      case "map": {
        const n = r.mapHeader();
        const stringKey = t.key.kind === "scalar" && t.key.name === "string";
        const rec: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) {
          const k = this.decode(r, t.key);
          try {
            const v = this.decode(r, t.value);
            if (stringKey) rec[k as string] = v;
            else m.set(k, v);
          } catch (err) {
            throw DecodeError.at(err, stringKey ? `[${peerText(k as string, { quote: true })}]` : `[${String(k)}]`);
          }
        }
        return stringKey ? rec : m;
      }
      case "ref": {
        const d = this.decl(t.qualifiedName);
        switch (d.kind) {
          case "enum": return this.decodeEnum(r, d);
          case "union": return this.decodeUnion(r, d);
          case "struct": case "error": return this.decodeStruct(r, d);
          default: throw new DecodeError(`${d.qualifiedName} is a ${d.kind}, not a type`);
        }
      }
    }
  }

  private decodeScalar(r: MsgReader, name: ScalarName): unknown {
    switch (name) {
      case "bool": return r.bool();
      case "i32": return r.i32();
      case "u32": return r.u32();
      case "i64": return r.i64();
      case "u64": return r.u64();
      case "f64": return r.f64();
      case "string": return r.str();
      case "bytes": return r.bin();
      case "timestamp": return r.timestamp();
    }
  }

  private decodeEnum(r: MsgReader, d: EnumDecl): number {
    if (!d.closed) return r.i32();
    const v = r.int();
    if (!d.values.some((e) => e.value === v)) throw new DecodeError(`${v} is not a value of enum ${d.qualifiedName}`);
    return v;
  }

  private decodeUnion(r: MsgReader, d: UnionDecl): { kind: string; value: unknown } | { kind: string; id: number; raw: Uint8Array } {
    const n = r.mapHeader();
    if (n !== 1) throw new DecodeError(`union ${d.qualifiedName} must be a map with 1 entry, found ${n}`);
    const id = r.int();
    let at = "";
    r.enter();
    try {
      const variant = d.variants.find((x) => x.id === id);
      if (variant === undefined && !d.closed) {
        if (id < 1 || id > MAX_VARIANT_ID) throw new DecodeError(`variant id ${id} of union ${d.qualifiedName} is out of range (1 to ${MAX_VARIANT_ID})`);
        const raw = r.rawValue();
        r.leave();
        return { kind: UNKNOWN_VARIANT_KIND, id, raw };
      }
      if (variant === undefined) throw new DecodeError(`unknown variant id ${id} for union ${d.qualifiedName}`);
      at = variant.name;
      const value = this.decode(r, variant.type);
      r.leave();
      return { kind: variant.name, value };
    } catch (err) {
      throw DecodeError.at(err, at);
    }
  }

  /** A struct or an error's fields; every field's key is present (absent ones undefined), defaults filled. */
  decodeStruct(r: MsgReader, d: StructLike): Record<string, unknown> {
    const n = r.mapHeader();
    const fields = sortedFields(d);
    const byId = new Map(fields.map((f) => [f.id, f]));
    const got = new Map<string, unknown>();
    let at = "";
    r.enter();
    try {
      for (let i = 0; i < n; i++) {
        const f = byId.get(r.int());
        if (f === undefined) {
          at = "";
          r.skip();
          continue;
        }
        at = f.name;
        if (f.optional && r.peekNil()) r.nil();
        else got.set(f.name, this.decode(r, f.type));
      }
    } catch (err) {
      throw DecodeError.at(err, at);
    }
    r.leave();
    for (const f of fields) {
      if (got.has(f.name) || f.optional || f.default !== undefined) continue;
      throw new DecodeError(`required field ${f.name} (id ${f.id}) is missing`, f.name);
    }
    const out: Record<string, unknown> = {};
    for (const f of d.fields) out[f.name] = got.has(f.name) ? got.get(f.name) : f.default === undefined ? undefined : defaultValue(f.default, f.type);
    return out;
  }

  // ------------------------------------------------------------ RPC-layer handles

  /** A MessageType of a struct or union, for MethodDescriptors built at run time. */
  messageType(qualifiedName: string): MessageType<unknown> {
    const d = this.decl(qualifiedName);
    if (d.kind !== "struct" && d.kind !== "union") throw new TypeError(`${qualifiedName} is a ${d.kind}, not a message type`);
    const t: TypeRef = { kind: "ref", qualifiedName, target: d.kind };
    return {
      typeName: qualifiedName,
      encode: (w, v) => this.encode(w, t, v),
      decode: (r) => this.decode(r, t),
      validate: (v) => {
        try {
          this.encode(new MsgWriter(256), t, v);
          return null;
        } catch (e) {
          if (e instanceof EncodeValueError) return { path: e.path, message: e.detail };
          throw e;
        }
      },
    };
  }

  /** An ErrorType of an IDL error: it decodes into a TypedErrorValue carrying the fields. */
  errorType(qualifiedName: string): ErrorType {
    const d = this.decl(qualifiedName);
    if (d.kind !== "error") throw new TypeError(`${qualifiedName} is a ${d.kind}, not an error`);
    const status = Status[d.status];
    return {
      code: qualifiedName,
      status,
      encode: (w, e) => this.encodeStruct(w, d, e instanceof TypedErrorValue ? e.fields : e),
      decode: (r, message) => new TypedErrorValue(status, message, qualifiedName, this.decodeStruct(r, d)),
      is: (e): e is RpcError => typeof e === "object" && e !== null && (e as { code?: unknown }).code === qualifiedName,
    };
  }
}

function sortedFields(d: StructLike): Field[] {
  return [...d.fields].sort((a, b) => a.id - b.id);
}
