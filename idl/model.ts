/**
 * The resolved model of a set of .ridl files: what the resolver produces and
 * what codegen/ and the compatibility checker consume. Plain data only (no
 * behaviour besides the type definitions); every union is keyed by `kind`.
 *
 * Stability: this file only grows (additive changes). Conventions:
 * - Names: `name` is the name as written; `qualifiedName` is
 *   "<package>.<name>" (e.g. "kv.v1.Entry"). Type references always carry the
 *   qualified name of their target.
 * - Order: every array is in deterministic source order: files in load order
 *   (entry files in the order given, each followed depth-first by the imports it
 *   introduces), declarations in text order within a file.
 * - Integers in `Value` are `bigint` (u64/i64 need the full range); enum numbers,
 *   field ids and variant ids are plain `number` (they fit in 32 bits).
 * - Positions are `{ file, offset }` with `offset` an index into the file's text
 *   (UTF-16 code units, as JavaScript strings count); use `locate()` from
 *   idl/source.ts (re-exported by idl/index.ts) to get 1-based line/column.
 */

/** A place in a source file. `file` is the path as loaded (Model.files[i].path). */
export interface Pos {
  readonly file: string;
  readonly offset: number;
}

/** One loaded .ridl file. */
export interface SourceFile {
  /** Path as given (entry files) or as joined from the importer's directory. */
  readonly path: string;
  readonly text: string;
  /** Package declared by the file (`package kv.v1;`). */
  readonly package: string;
  /** Paths (as in SourceFile.path) of the files this file imports directly. */
  readonly imports: readonly string[];
}

// ---------------------------------------------------------------- types

export type ScalarName =
  | "bool" | "i32" | "i64" | "u32" | "u64" | "f64" | "string" | "bytes" | "timestamp";

/** Declaration kinds a TypeRef of kind "ref" may point at. */
export type RefTarget = "struct" | "enum" | "union" | "error";

export type TypeRef =
  | { readonly kind: "scalar"; readonly name: ScalarName }
  | { readonly kind: "list"; readonly elem: TypeRef }
  /** `key` is always a scalar: string, i32, i64, u32 or u64. */
  | { readonly kind: "map"; readonly key: TypeRef; readonly value: TypeRef }
  | { readonly kind: "ref"; readonly qualifiedName: string; readonly target: RefTarget };

/**
 * A literal value (const values and field defaults), already converted to the
 * declared type: an f64 field's default is always `float` even if written `1`.
 */
export type Value =
  | { readonly kind: "bool"; readonly value: boolean }
  /** i32/i64/u32/u64, range-checked against the declared type. */
  | { readonly kind: "int"; readonly value: bigint }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "string"; readonly value: string }
  /** An enum member: `enum` is the enum's qualified name, `name` the member, `value` its number. */
  | { readonly kind: "enum"; readonly enum: string; readonly name: string; readonly value: number };

// ---------------------------------------------------------------- members

export interface Field {
  /** Wire id, 1 .. 2^29-1, unique within the struct/error. */
  readonly id: number;
  readonly name: string;
  readonly type: TypeRef;
  /** Declared with `?`: may be absent on the wire. */
  readonly optional: boolean;
  /** `= value` in the IDL (bool, numeric, string and enum fields only). */
  readonly default: Value | undefined;
  /** Text of the `///` comment lines above, joined with "\n", without the slashes and one leading space. */
  readonly doc: string | undefined;
  readonly pos: Pos;
}

/** An inclusive id range; a single reserved id has from === to. */
export interface IdRange {
  readonly from: number;
  readonly to: number;
}

/** `reserved 8, 10 to 12; reserved "old_name";` */
export interface Reserved {
  readonly ids: readonly IdRange[];
  readonly names: readonly string[];
  /** Where each reserved statement was (for messages). */
  readonly pos: readonly Pos[];
}

export interface EnumValue {
  readonly name: string;
  /** Fits in i32. */
  readonly value: number;
  readonly doc: string | undefined;
  readonly pos: Pos;
}

export interface UnionVariant {
  /** Wire tag, 1 .. 2^29-1, unique within the union. */
  readonly id: number;
  readonly name: string;
  readonly type: TypeRef;
  readonly doc: string | undefined;
  readonly pos: Pos;
}

export type MethodKind = "unary" | "server_stream" | "client_stream" | "bidi";

export interface Method {
  readonly name: string;
  readonly kind: MethodKind;
  /** Qualified name of the input struct. */
  readonly input: string;
  /** Qualified name of the output struct. */
  readonly output: string;
  /** Option `idempotent` (safe to retry). */
  readonly idempotent: boolean;
  /** Option `deadline = 500ms` / `2s`, converted to milliseconds. */
  readonly deadlineMs: number | undefined;
  /** Qualified names of the error declarations named by `throws`, in written order. */
  readonly throws: readonly string[];
  readonly doc: string | undefined;
  readonly pos: Pos;
}

// ---------------------------------------------------------------- declarations

interface DeclBase {
  readonly name: string;
  /** "<package>.<name>". */
  readonly qualifiedName: string;
  readonly package: string;
  readonly doc: string | undefined;
  /** Position of the declaration's name. */
  readonly pos: Pos;
}

export interface StructDecl extends DeclBase {
  readonly kind: "struct";
  /** In written order (not sorted by id). */
  readonly fields: readonly Field[];
  readonly reserved: Reserved;
}

/** Status names usable by `error X [status = NOT_FOUND]` (src/rpc/status.ts). */
export type ErrorStatusName =
  | "CANCELLED" | "UNKNOWN" | "INVALID_ARGUMENT" | "DEADLINE_EXCEEDED" | "NOT_FOUND"
  | "ALREADY_EXISTS" | "PERMISSION_DENIED" | "RESOURCE_EXHAUSTED" | "FAILED_PRECONDITION"
  | "ABORTED" | "OUT_OF_RANGE" | "UNIMPLEMENTED" | "INTERNAL" | "UNAVAILABLE"
  | "DATA_LOSS" | "UNAUTHENTICATED";

export interface ErrorDecl extends DeclBase {
  readonly kind: "error";
  readonly fields: readonly Field[];
  readonly reserved: Reserved;
  /** RPC status the error travels with; "FAILED_PRECONDITION" unless `[status = ...]` says otherwise. */
  readonly status: ErrorStatusName;
}

export interface EnumDecl extends DeclBase {
  readonly kind: "enum";
  readonly values: readonly EnumValue[];
  readonly reserved: Reserved;
  /**
   * `[closed]`: a reader rejects a number that is not a member. Without it the
   * enum is open: a reader keeps such a number as an unknown value.
   */
  readonly closed: boolean;
}

export interface UnionDecl extends DeclBase {
  readonly kind: "union";
  readonly variants: readonly UnionVariant[];
  readonly reserved: Reserved;
  /**
   * `[closed]`: a reader rejects a variant id it does not know. Without it the
   * union is open: a reader keeps such a variant as `{ kind: "$unknown", id, raw }`.
   */
  readonly closed: boolean;
}

export interface ConstDecl extends DeclBase {
  readonly kind: "const";
  /** A scalar (bool, integers, f64, string) or a ref to an enum. */
  readonly type: TypeRef;
  readonly value: Value;
}

export interface ServiceDecl extends DeclBase {
  readonly kind: "service";
  readonly methods: readonly Method[];
}

export type Decl = StructDecl | EnumDecl | UnionDecl | ErrorDecl | ConstDecl | ServiceDecl;
export type DeclKind = Decl["kind"];

/** The declarations of one package, across all files that declare it. */
export interface Package {
  readonly name: string;
  /** Paths of the files declaring this package, in load order. */
  readonly files: readonly string[];
  readonly decls: readonly Decl[];
}

export interface Model {
  /** Every loaded file, in load order. */
  readonly files: readonly SourceFile[];
  /** Packages in order of first appearance. */
  readonly packages: readonly Package[];
  /** Every declaration in deterministic source order. */
  readonly decls: readonly Decl[];
  /** Same declarations keyed by qualified name. */
  readonly byName: ReadonlyMap<string, Decl>;
  /** The service declarations, in source order (a subset of decls). */
  readonly services: readonly ServiceDecl[];
  /** Paths of the entry files given to compile(), in the given order. */
  readonly entryFiles: readonly string[];
}
