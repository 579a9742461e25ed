/**
 * The syntax tree the parser produces and the resolver consumes. Names are as
 * written (possibly dotted); nothing here is resolved or checked beyond syntax.
 * Every node keeps the offset of its name (or first token) for diagnostics.
 */

export interface AstName {
  readonly name: string;
  readonly offset: number;
}

export type AstType =
  /** A scalar or a (possibly package-qualified) declaration name. */
  | { readonly kind: "named"; readonly name: string; readonly offset: number }
  | { readonly kind: "list"; readonly elem: AstType; readonly offset: number }
  | { readonly kind: "map"; readonly key: AstType; readonly value: AstType; readonly offset: number };

export type AstLiteral =
  | { readonly kind: "int"; readonly value: bigint; readonly text: string; readonly offset: number }
  | { readonly kind: "float"; readonly value: number; readonly text: string; readonly offset: number }
  | { readonly kind: "string"; readonly value: string; readonly text: string; readonly offset: number }
  | { readonly kind: "bool"; readonly value: boolean; readonly text: string; readonly offset: number }
  | { readonly kind: "ident"; readonly name: string; readonly text: string; readonly offset: number };

export interface AstReserved {
  readonly ids: readonly { readonly from: bigint; readonly to: bigint; readonly offset: number }[];
  readonly names: readonly AstName[];
  readonly offset: number;
}

export interface AstField {
  readonly id: bigint;
  readonly idOffset: number;
  readonly name: AstName;
  readonly optional: boolean;
  readonly type: AstType;
  readonly default: AstLiteral | undefined;
  readonly doc: string | undefined;
}

export interface AstOption {
  readonly name: AstName;
  /** Raw value token text (e.g. "500ms", "NOT_FOUND"), if `= value` was given. */
  readonly value: { readonly text: string; readonly offset: number } | undefined;
}

export interface AstEnumValue {
  readonly name: AstName;
  readonly value: bigint;
  readonly valueOffset: number;
  readonly doc: string | undefined;
}

export interface AstVariant {
  readonly id: bigint;
  readonly idOffset: number;
  readonly name: AstName;
  readonly type: AstType;
  readonly doc: string | undefined;
}

export interface AstMethod {
  readonly name: AstName;
  readonly inputStream: boolean;
  readonly input: AstName;
  readonly outputStream: boolean;
  readonly output: AstName;
  readonly throws: readonly AstName[];
  readonly options: readonly AstOption[];
  readonly doc: string | undefined;
}

interface AstDeclBase {
  readonly name: AstName;
  readonly doc: string | undefined;
}

export type AstDecl =
  | (AstDeclBase & { readonly kind: "struct"; readonly fields: readonly AstField[]; readonly reserved: readonly AstReserved[] })
  | (AstDeclBase & {
      readonly kind: "error";
      readonly fields: readonly AstField[];
      readonly reserved: readonly AstReserved[];
      readonly options: readonly AstOption[];
    })
  | (AstDeclBase & {
      readonly kind: "enum";
      readonly values: readonly AstEnumValue[];
      readonly reserved: readonly AstReserved[];
      readonly options: readonly AstOption[];
    })
  | (AstDeclBase & {
      readonly kind: "union";
      readonly variants: readonly AstVariant[];
      readonly reserved: readonly AstReserved[];
      readonly options: readonly AstOption[];
    })
  | (AstDeclBase & { readonly kind: "const"; readonly type: AstType; readonly value: AstLiteral })
  | (AstDeclBase & { readonly kind: "service"; readonly methods: readonly AstMethod[] });

export interface AstFile {
  readonly path: string;
  readonly pkg: AstName | undefined;
  readonly imports: readonly { readonly spec: string; readonly offset: number }[];
  readonly decls: readonly AstDecl[];
}
