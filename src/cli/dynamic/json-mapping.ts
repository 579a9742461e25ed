/**
 * JSON for IDL values, both ways, driven by the resolved model: what
 * `ringrpc call` reads and prints. The mapping (docs/RPC.md, "Operating a
 * service"): structs and errors are objects keyed by field name (an absent
 * optional field is left out; an unknown name is an error); unions are
 * `{"<variant>": value}`; enums are their member name (a number is accepted
 * too, any i32 for an open enum, and a number without a name prints as
 * itself); an open union's unknown variant is `{"$unknown": {"id": 3, "raw":
 * "<base64 of its msgpack bytes>"}}`; i64/u64 are numbers up to 2^53-1 in magnitude and decimal strings
 * beyond (a string is always accepted); f64 is a number, or "NaN",
 * "Infinity", "-Infinity", "-0"; bytes are base64 (URL-safe accepted);
 * timestamps are RFC 3339 strings (`toISOString()` form when printed);
 * map keys are strings (decimal for integer keys). Values on the other side
 * have the generated code's shape (src/cli/dynamic/dynamic-codec.ts).
 */
import type { EnumDecl, ErrorDecl, Model, ScalarName, StructDecl, TypeRef, UnionDecl } from "../../../idl/index.ts";
import { defaultValue } from "./dynamic-codec.ts";
import { fieldPath, indexPath, keyPath } from "./value-path.ts";

/** A JSON value that does not fit its IDL type; `path` names the field. */
export class JsonValueError extends Error {
  override readonly name = "JsonValueError";
  readonly code = "JSON_VALUE";
  constructor(readonly path: string, readonly detail: string) {
    super(path === "" ? detail : `${path}: ${detail}`);
  }
}

type StructLike = StructDecl | ErrorDecl;

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const RANGES: Partial<Record<ScalarName, readonly [bigint, bigint]>> = {
  i32: [-(2n ** 31n), 2n ** 31n - 1n],
  u32: [0n, 2n ** 32n - 1n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
  u64: [0n, 2n ** 64n - 1n],
};
const RFC3339 = /^([+-]\d{6}|\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const F64_WORDS: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, "-Infinity": Number.NEGATIVE_INFINITY, "-0": -0 };

function describe(j: unknown): string {
  if (j === null) return "null";
  if (Array.isArray(j)) return "an array";
  if (typeof j === "object") return "an object";
  return typeof j === "string" ? `string ${JSON.stringify(j.length > 40 ? `${j.slice(0, 40)}...` : j)}` : `${typeof j} ${String(j)}`;
}

function isObject(j: unknown): j is Record<string, unknown> {
  return typeof j === "object" && j !== null && !Array.isArray(j);
}

export class JsonMapping {
  constructor(readonly model: Model) {}

  private decl(qualifiedName: string) {
    const d = this.model.byName.get(qualifiedName);
    if (d === undefined) throw new TypeError(`the IDL declares no ${qualifiedName}`);
    return d;
  }

  // ------------------------------------------------------------ JSON -> value

  /** The value of type t that JSON `j` stands for; throws JsonValueError naming the field. */
  fromJson(t: TypeRef, j: unknown, path = ""): unknown {
    switch (t.kind) {
      case "scalar": return this.scalarFromJson(t.name, j, path);
      case "list":
        if (!Array.isArray(j)) throw new JsonValueError(path, `expected an array, found ${describe(j)}`);
        return j.map((e, i) => this.fromJson(t.elem, e, indexPath(path, i)));
      case "map": {
        if (!isObject(j)) throw new JsonValueError(path, `expected an object (a map), found ${describe(j)}`);
        if (t.key.kind === "scalar" && t.key.name === "string") {
          const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
          for (const [k, v] of Object.entries(j)) out[k] = this.fromJson(t.value, v, keyPath(path, k));
          return out;
        }
        const m = new Map<unknown, unknown>();
        for (const [k, v] of Object.entries(j)) m.set(this.fromJson(t.key, k, keyPath(path, k)), this.fromJson(t.value, v, keyPath(path, k)));
        return m;
      }
      case "ref": {
        const d = this.decl(t.qualifiedName);
        switch (d.kind) {
          case "enum": return this.enumFromJson(d, j, path);
          case "union": return this.unionFromJson(d, j, path);
          case "struct": case "error": return this.structFromJson(d, j, path);
          default: throw new JsonValueError(path, `${d.qualifiedName} is a ${d.kind}, not a type`);
        }
      }
    }
  }

  private scalarFromJson(name: ScalarName, j: unknown, path: string): unknown {
    const bad = (what: string) => new JsonValueError(path, `expected ${what}, found ${describe(j)}`);
    switch (name) {
      case "bool":
        if (typeof j !== "boolean") throw bad("true or false");
        return j;
      case "i32": case "u32": case "i64": case "u64": {
        let n: bigint;
        if (typeof j === "number" && Number.isSafeInteger(j)) n = BigInt(j);
        else if (typeof j === "string" && /^-?\d+$/.test(j)) n = BigInt(j);
        else if (typeof j === "number" && Number.isInteger(j)) throw bad(`an integer; write ${name} values beyond 2^53 as a decimal string`);
        else throw bad(`an integer (${name})`);
        const [lo, hi] = RANGES[name]!;
        if (n < lo || n > hi) throw new JsonValueError(path, `${n} is out of range for ${name} (${lo} to ${hi})`);
        return name === "i64" || name === "u64" ? n : Number(n);
      }
      case "f64":
        if (typeof j === "number") return j;
        if (typeof j === "string" && j in F64_WORDS) return F64_WORDS[j];
        throw bad(`a number (or "NaN", "Infinity", "-Infinity", "-0")`);
      case "string":
        if (typeof j !== "string") throw bad("a string");
        return j;
      case "bytes":
        if (typeof j !== "string" || !BASE64.test(j)) throw bad("base64 text");
        return new Uint8Array(Buffer.from(j, "base64"));
      case "timestamp": {
        if (typeof j !== "string" || !RFC3339.test(j)) throw bad(`an RFC 3339 timestamp such as "2024-05-01T12:00:00Z"`);
        // Date keeps milliseconds: drop finer digits rather than let the parser round them.
        const d = new Date(j.replace(/(\.\d{3})\d+/, "$1"));
        if (Number.isNaN(d.getTime())) throw new JsonValueError(path, `${JSON.stringify(j)} is not a valid date`);
        return d;
      }
    }
  }

  private enumFromJson(d: EnumDecl, j: unknown, path: string): number {
    if (!d.closed && typeof j === "number" && (j | 0) === j) return j;
    const v = typeof j === "string" ? d.values.find((e) => e.name === j) : typeof j === "number" ? d.values.find((e) => e.value === j) : undefined;
    if (v === undefined) throw new JsonValueError(path, `expected a value of enum ${d.qualifiedName} (${d.values.map((e) => e.name).join(", ")}), found ${describe(j)}`);
    return v.value;
  }

  private unionFromJson(d: UnionDecl, j: unknown, path: string): { kind: string; value: unknown } | { kind: "$unknown"; id: number; raw: Uint8Array } {
    const names = d.variants.map((v) => v.name).join(", ");
    const keys = isObject(j) ? Object.keys(j) : [];
    if (!isObject(j) || keys.length !== 1) throw new JsonValueError(path, `expected an object with exactly one of ${names} (union ${d.qualifiedName}), found ${isObject(j) ? `${keys.length} keys` : describe(j)}`);
    if (keys[0] === "$unknown" && !d.closed) return this.unknownVariantFromJson(j.$unknown, fieldPath(path, "$unknown"));
    const variant = d.variants.find((v) => v.name === keys[0]);
    if (variant === undefined) throw new JsonValueError(path, `"${keys[0]}" is not a variant of union ${d.qualifiedName} (${names})`);
    return { kind: variant.name, value: this.fromJson(variant.type, j[variant.name], fieldPath(path, variant.name)) };
  }

  /** `{"id": 3, "raw": "<base64>"}`: an open union's variant this schema does not declare (the codec checks the bytes). */
  private unknownVariantFromJson(j: unknown, path: string): { kind: "$unknown"; id: number; raw: Uint8Array } {
    if (!isObject(j)) throw new JsonValueError(path, `expected {"id": <variant id>, "raw": "<base64 msgpack>"}, found ${describe(j)}`);
    const id = this.scalarFromJson("u32", j.id, fieldPath(path, "id")) as number;
    const raw = this.scalarFromJson("bytes", j.raw, fieldPath(path, "raw")) as Uint8Array;
    return { kind: "$unknown", id, raw };
  }

  /** A struct or error value from a JSON object; absent fields with a default get it. */
  structFromJson(d: StructLike, j: unknown, path = ""): Record<string, unknown> {
    if (!isObject(j)) throw new JsonValueError(path, `expected an object (${d.qualifiedName}), found ${describe(j)}`);
    for (const k of Object.keys(j)) {
      if (!d.fields.some((f) => f.name === k)) throw new JsonValueError(fieldPath(path, k), `unknown field of ${d.qualifiedName} (its fields: ${d.fields.map((f) => f.name).join(", ") || "none"})`);
    }
    const out: Record<string, unknown> = {};
    for (const f of d.fields) {
      const v = j[f.name];
      if (v !== undefined && v !== null) out[f.name] = this.fromJson(f.type, v, fieldPath(path, f.name));
      else if (f.default !== undefined) out[f.name] = defaultValue(f.default, f.type);
      else if (!f.optional) throw new JsonValueError(fieldPath(path, f.name), `required field ${f.name} of ${d.qualifiedName} is missing`);
    }
    return out;
  }

  // ------------------------------------------------------------ value -> JSON

  /** The JSON (a value JSON.stringify prints as is) of a value of type t. */
  toJson(t: TypeRef, v: unknown): unknown {
    switch (t.kind) {
      case "scalar": return this.scalarToJson(t.name, v);
      case "list": return (v as unknown[]).map((e) => this.toJson(t.elem, e));
      case "map": {
        const out: Record<string, unknown> = {};
        const entries = v instanceof Map ? [...v.entries()] : Object.entries(v as Record<string, unknown>);
        for (const [k, e] of entries) out[String(k)] = this.toJson(t.value, e);
        return out;
      }
      case "ref": {
        const d = this.decl(t.qualifiedName);
        switch (d.kind) {
          case "enum": return d.values.find((e) => e.value === v)?.name ?? v;
          case "union": {
            const u = v as { kind: string; value: unknown; id?: number; raw?: Uint8Array };
            if (u.kind === "$unknown") return { $unknown: { id: u.id, raw: this.scalarToJson("bytes", u.raw) } };
            const variant = d.variants.find((x) => x.name === u.kind)!;
            return { [u.kind]: this.toJson(variant.type, u.value) };
          }
          case "struct": case "error": return this.structToJson(d, v as Record<string, unknown>);
          default: throw new TypeError(`${d.qualifiedName} is a ${d.kind}, not a type`);
        }
      }
    }
  }

  structToJson(d: StructLike, v: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of d.fields) if (v[f.name] !== undefined) out[f.name] = this.toJson(f.type, v[f.name]);
    return out;
  }

  private scalarToJson(name: ScalarName, v: unknown): unknown {
    switch (name) {
      case "i64": case "u64": {
        const n = v as bigint;
        return n >= -SAFE && n <= SAFE ? Number(n) : n.toString();
      }
      case "f64": {
        const x = v as number;
        if (Number.isNaN(x)) return "NaN";
        if (x === Number.POSITIVE_INFINITY) return "Infinity";
        if (x === Number.NEGATIVE_INFINITY) return "-Infinity";
        return Object.is(x, -0) ? "-0" : x;
      }
      case "bytes": return Buffer.from(v as Uint8Array).toString("base64");
      case "timestamp": {
        const d = v as Date;
        return Number.isNaN(d.getTime()) ? "Invalid Date" : d.toISOString();
      }
      default: return v;
    }
  }
}
