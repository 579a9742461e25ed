/**
 * Emits, per IDL error: a class extending RpcError with a stable `code`
 * (the qualified name), typed readonly fields and a readable default message
 * (`KeyNotFound: key="k" (The key does not exist.)`, typedErrorMessage), and
 * an ErrorType<Class> object (src/rpc/descriptor.ts) that encodes/decodes
 * the fields and recognises the error by code with a type guard (never
 * instanceof: errors cross Worker boundaries).
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
    const fieldList = d.fields.map((f) => `[${quote(f.name)}, fields.${f.name}]`).join(", ");
    const defaultMessage = `${p.runtime("rpc", "typedErrorMessage")}(${quote(d.name)}, ${quote(docLine(d))}, [${fieldList}])`;
    p.block(`constructor(${arg}, message?: string) {`, () => {
      p.line(`super(${status}.${d.status}, message ?? ${defaultMessage}, ${code});`);
      for (const f of d.fields) p.line(`this.${f.name} = fields.${f.name};`);
    });
  });
  p.line();

  const et = p.claimName(`${declIdent(d.name)}Type`, `error type of ${d.qualifiedName}`);
  const errorType = p.runtime("rpc", "ErrorType", true);
  const enc = p.sym(d, "encode");
  const dec = p.sym(d, "decode");
  p.doc(`Codec and matcher of ${d.qualifiedName} for the RPC layer.`);
  p.block(`export const ${et}: ${errorType}<${cls}> = {`, () => {
    p.line(`code: ${code},`);
    p.line(`status: ${status}.${d.status},`);
    p.line(`encode: (w, e) => ${enc}(w, e as unknown as ${fields}),`);
    p.line(`decode: (r, message) => new ${cls}(${dec}(r), message),`);
    p.line(`is: (e): e is ${cls} => typeof e === "object" && e !== null && (e as { code?: unknown }).code === ${code},`);
  }, "};");
  p.line();
}

/** The first line of the error's doc comment, "" when it has none. */
function docLine(d: ErrorDecl): string {
  return d.doc?.split("\n")[0]?.trim() ?? "";
}
