/**
 * Emits, per IDL service: typed MethodDescriptors, the ServiceDescriptor
 * (`export const KeyValue`), the server interface (`KeyValueHandlers`), the
 * binder (`bindKeyValue`) and the typed client (`KeyValueClient`) built on a
 * CallInvoker (all contracts in src/rpc/descriptor.ts).
 */
import type { Method, Model, ServiceDecl } from "../idl/model.ts";
import { clientMethodIdent, declIdent, literalKey, quote } from "./names.ts";
import type { Printer } from "./printer.ts";
import { lookup } from "./emit-types.ts";

/** `idl` is the identifier of the file's module-private IDL source (emit-idl.ts). */
export function emitService(p: Printer, model: Model, s: ServiceDecl, idl: string): void {
  const base = declIdent(s.name);
  const svc = p.claimName(base, s.qualifiedName);
  const descIface = p.claimName(`${base}Descriptor`, `descriptor type of ${s.qualifiedName}`);
  const handlers = p.claimName(`${base}Handlers`, `handlers of ${s.qualifiedName}`);
  const bind = p.claimName(`bind${base}`, `binder of ${s.qualifiedName}`);
  const client = p.claimName(`${base}Client`, `client of ${s.qualifiedName}`);
  const md = p.runtime("rpc", "MethodDescriptor", true);
  const sd = p.runtime("rpc", "ServiceDescriptor", true);
  const ctx = p.runtime("rpc", "CallContext", true);
  const opts = p.runtime("rpc", "CallOptions", true);
  const invoker = p.runtime("rpc", "CallInvoker", true);
  const binding = p.runtime("rpc", "ServiceBinding", true);

  const io = (m: Method) => {
    const input = lookup(model, m.input);
    const output = lookup(model, m.output);
    return {
      inType: p.sym(input, "type", true),
      outType: p.sym(output, "type", true),
      inMsg: p.sym(input, "messageType"),
      outMsg: p.sym(output, "messageType"),
    };
  };

  p.doc(`Method descriptors of ${s.qualifiedName}, typed by request and response.`);
  p.block(`export interface ${descIface} extends ${sd} {`, () => {
    p.block("readonly methods: {", () => {
      for (const m of s.methods) {
        const { inType, outType } = io(m);
        p.line(`readonly ${m.name}: ${md}<${inType}, ${outType}>;`);
      }
    }, "};");
  });
  p.line();

  p.doc(s.doc, [`Service ${s.qualifiedName}.`]);
  p.block(`export const ${svc}: ${descIface} = {`, () => {
    p.line(`name: ${quote(s.qualifiedName)},`);
    p.block("methods: {", () => {
      for (const m of s.methods) {
        const { inMsg, outMsg } = io(m);
        const errors = m.throws.map((qn) => p.sym(lookup(model, qn), "errorType"));
        p.block(`${literalKey(m.name)}: {`, () => {
          p.line(`service: ${quote(s.qualifiedName)},`);
          p.line(`name: ${quote(m.name)},`);
          p.line(`path: ${quote(`${s.qualifiedName}/${m.name}`)},`);
          p.line(`kind: ${quote(m.kind)},`);
          p.line(`input: ${inMsg},`);
          p.line(`output: ${outMsg},`);
          p.line(`idempotent: ${m.idempotent},`);
          p.line(`deadlineMs: ${m.deadlineMs === undefined ? "undefined" : String(m.deadlineMs)},`);
          p.line(`errors: [${errors.join(", ")}],`);
        }, "},");
      }
    }, "},");
    p.line(`idl: ${idl},`);
  }, "};");
  p.line();

  p.doc(s.doc, [`Server side of ${s.qualifiedName}: implement this (\`class Impl implements ${handlers}\`) and pass it to ${bind}.`]);
  p.block(`export interface ${handlers} {`, () => {
    for (const m of s.methods) {
      const { inType, outType } = io(m);
      p.doc(m.doc, methodNotes(m));
      switch (m.kind) {
        case "unary": p.line(`${m.name}(req: ${inType}, ctx: ${ctx}): ${outType} | Promise<${outType}>;`); break;
        case "server_stream": p.line(`${m.name}(req: ${inType}, ctx: ${ctx}): AsyncIterable<${outType}> | Iterable<${outType}>;`); break;
        case "client_stream": p.line(`${m.name}(reqs: AsyncIterable<${inType}>, ctx: ${ctx}): ${outType} | Promise<${outType}>;`); break;
        case "bidi": p.line(`${m.name}(reqs: AsyncIterable<${inType}>, ctx: ${ctx}): AsyncIterable<${outType}> | Iterable<${outType}>;`); break;
      }
    }
  });
  p.line();

  p.doc(
    `Binds an implementation of ${s.qualifiedName}; requests are validated unless \`validate: false\`. ` +
      `Methods listed in \`unimplemented\` may be left out of \`impl\`; their calls get UNIMPLEMENTED.`,
  );
  p.block(
    `export function ${bind}<const U extends keyof ${handlers} = never>(impl: Omit<${handlers}, U>, opts?: { validate?: boolean; unimplemented?: readonly U[] }): ${binding} {`,
    () => {
      p.line(`return { descriptor: ${svc}, impl, validate: opts?.validate ?? true, unimplemented: opts?.unimplemented ?? [] };`);
    },
  );
  p.line();

  p.doc(s.doc, [`Typed client of ${s.qualifiedName}.`]);
  p.block(`export class ${client} {`, () => {
    p.line(`readonly #invoker: ${invoker};`);
    p.block(`constructor(invoker: ${invoker}) {`, () => p.line("this.#invoker = invoker;"));
    for (const m of s.methods) {
      const { inType, outType } = io(m);
      const desc = `${svc}.methods.${m.name}`;
      const name = clientMethodIdent(m.name);
      p.line();
      p.doc(m.doc, methodNotes(m));
      switch (m.kind) {
        case "unary":
          p.block(`${name}(req: ${inType}, opts?: ${opts}): Promise<${outType}> {`, () => p.line(`return this.#invoker.unary(${desc}, req, opts);`));
          break;
        case "server_stream":
          p.block(`${name}(req: ${inType}, opts?: ${opts}): AsyncIterable<${outType}> {`, () => p.line(`return this.#invoker.serverStream(${desc}, req, opts);`));
          break;
        case "client_stream":
          p.block(`${name}(reqs: AsyncIterable<${inType}> | Iterable<${inType}>, opts?: ${opts}): Promise<${outType}> {`, () => p.line(`return this.#invoker.clientStream(${desc}, reqs, opts);`));
          break;
        case "bidi":
          p.block(`${name}(reqs: AsyncIterable<${inType}> | Iterable<${inType}>, opts?: ${opts}): AsyncIterable<${outType}> {`, () => p.line(`return this.#invoker.bidi(${desc}, reqs, opts);`));
          break;
      }
    }
  });
  p.line();
}

function methodNotes(m: Method): string[] {
  const notes: string[] = [];
  if (m.idempotent) notes.push("Idempotent: safe to retry.");
  if (m.deadlineMs !== undefined) notes.push(`Default deadline: ${m.deadlineMs} ms.`);
  if (m.throws.length > 0) notes.push(`Throws: ${m.throws.join(", ")}.`);
  return notes;
}
