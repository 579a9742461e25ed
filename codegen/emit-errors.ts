/**
 * Emits, per IDL error: a class extending RpcError with a stable `code`
 * (the qualified name) and typed readonly fields, and an ErrorType object
 * (src/rpc/descriptor.ts) that encodes/decodes the fields and recognises the
 * error by code (never instanceof: errors cross Worker boundaries).
 */
import type { ErrorDecl, Model } from "../idl/model.ts";
import { declIdent, quote } from "./names.ts";
import { CodegenError } from "./codegen-error.ts";
import type { Printer } from "./printer.ts";
import { tsType } from "./emit-types.ts";

/** Properties of RpcError/Error that an error field must not shadow. */
const TAKEN_BY_RPC_ERROR = new Set(["name", "message", "stack", "cause", "status", "code", "metadata", "constructor"]);

export function emitError(p: Printer, model: Model, d: ErrorDecl): void {
  for (const f of d.fields) {
    if (TAKEN_BY_RPC_ERROR.has(f.name)) {
      throw new CodegenError(`${d.pos.file}: field "${f.name}" of error ${d.qualifiedName} clashes with RpcError.${f.name}; rename the field (its wire id stays the same)`);
    }
  }
  const cls = p.claimName(declIdent(d.name), d.qualifiedName);
  const fields = p.sym(d, "fields", true);
  const rpcError = p.runtime("rpc", "RpcError");
  const status = p.runtime("rpc", "Status");
  const code = quote(d.qualifiedName);
  p.doc(d.doc, [`Typed error ${d.qualifiedName} (status ${d.status}). Match on \`code\`, not instanceof.`]);
  p.block(`export class ${cls} extends ${rpcError} {`, () => {
    p.line(`static readonly code = ${code};`);
    for (const f of d.fields) {
      p.doc(f.doc);
      const t = tsType(p, model, f.type);
      p.line(`readonly ${f.name}: ${t}${f.optional ? " | undefined" : ""};`);
    }
    const arg = d.fields.length === 0 ? `_fields: ${fields} = {}` : `fields: ${fields}`;
    p.block(`constructor(${arg}, message?: string) {`, () => {
      p.line(`super(${status}.${d.status}, message ?? ${quote(defaultMessage(d))}, ${code});`);
      for (const f of d.fields) p.line(`this.${f.name} = fields.${f.name};`);
    });
  });
  p.line();

  const et = p.claimName(`${declIdent(d.name)}Type`, `error type of ${d.qualifiedName}`);
  const errorType = p.runtime("rpc", "ErrorType", true);
  const enc = p.sym(d, "encode");
  const dec = p.sym(d, "decode");
  p.doc(`Codec and matcher of ${d.qualifiedName} for the RPC layer.`);
  p.block(`export const ${et}: ${errorType} = {`, () => {
    p.line(`code: ${code},`);
    p.line(`status: ${status}.${d.status},`);
    p.line(`encode: (w, e) => ${enc}(w, e as unknown as ${fields}),`);
    p.line(`decode: (r, message) => new ${cls}(${dec}(r), message),`);
    p.line(`is: (e) => typeof e === "object" && e !== null && (e as { code?: unknown }).code === ${code},`);
  }, "};");
  p.line();
}

function defaultMessage(d: ErrorDecl): string {
  const first = d.doc?.split("\n")[0]?.trim();
  return first !== undefined && first !== "" ? first : d.qualifiedName;
}
