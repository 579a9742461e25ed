/**
 * Identifier rules for generated TypeScript: which IDL names must be escaped
 * (reserved words, and globals or runtime imports the generated code relies
 * on), and how the helper names of a declaration are derived from its name.
 * Owns naming only; nothing here prints code.
 */

/** Words that cannot name a binding, plus names generated code must not shadow. */
const RESERVED = new Set([
  // ECMAScript reserved words and strict-mode future reserved words
  "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else",
  "enum", "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof",
  "new", "null", "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void",
  "while", "with", "yield", "let", "static", "implements", "interface", "package", "private", "protected",
  "public", "await", "arguments", "eval",
  // TypeScript type names and contextual keywords that cannot name a type
  "any", "boolean", "number", "string", "symbol", "bigint", "object", "unknown", "never", "undefined",
  "type", "declare", "namespace", "module", "abstract", "as", "readonly", "keyof", "infer", "is", "satisfies",
  // globals the generated code uses
  "Object", "Array", "Map", "Set", "Date", "Uint8Array", "Error", "TypeError", "Promise", "Number", "String",
  "Boolean", "BigInt", "Symbol", "JSON", "NaN", "Infinity", "AsyncIterable", "Iterable", "Record",
  // runtime imports
  "z", "MsgWriter", "MsgReader", "DecodeError", "joinPath", "RpcError", "Status",
  "MessageType", "ErrorType", "MethodDescriptor", "ServiceDescriptor", "ServiceBinding", "CallInvoker",
  "CallContext", "CallOptions", "ValidationIssue",
]);

/** The TypeScript name for an IDL declaration name: reserved names get a trailing "_". */
export function declIdent(name: string): string {
  return RESERVED.has(name) ? `${name}_` : name;
}

/** A client method name: "constructor" would be the class constructor. */
export function clientMethodIdent(name: string): string {
  return name === "constructor" ? "constructor_" : name;
}

/** An object-literal key: a computed key for "__proto__" so it stays an own property. */
export function literalKey(name: string): string {
  return name === "__proto__" ? '["__proto__"]' : name;
}

/** Property access for an IDL field or method name (all IDL names are identifiers). */
export function prop(obj: string, name: string): string {
  return `${obj}.${name}`;
}

/** What a generated symbol is for; each role has one derived name. */
export type SymbolRole =
  | "type" // interface / type alias / enum object
  | "fields" // error field interface
  | "encode"
  | "decode"
  | "check"
  | "schema"
  | "messageType"
  | "errorClass"
  | "errorType"
  | "service"
  | "descriptor"
  | "handlers"
  | "bind"
  | "client"
  | "const";

export function derivedName(base: string, role: SymbolRole): string {
  switch (role) {
    case "type": case "errorClass": case "service": case "const": return base;
    case "fields": return `${base}Fields`;
    case "encode": return `encode${base}`;
    case "decode": return `decode${base}`;
    case "check": return `check${base}`;
    case "schema": return `${base}Schema`;
    case "messageType": return `${base}Type`;
    case "errorType": return `${base}Type`;
    case "descriptor": return `${base}Descriptor`;
    case "handlers": return `${base}Handlers`;
    case "bind": return `bind${base}`;
    case "client": return `${base}Client`;
  }
}

/** The JS literal for a string, with double quotes. */
export function quote(s: string): string {
  return JSON.stringify(s);
}
