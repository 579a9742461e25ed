/**
 * Call half of the wire truth: real calls from a client generated from one
 * version to a server generated from another, over a real server. Every
 * version a server plays is bound under its own tag (`<tag>.<service>`), so
 * one server per driver hosts every pair at once; the client calls the same
 * tag, so the bytes differ from an untagged call only in the method path's
 * prefix. The server's handlers answer representative values of their
 * version (or throw each error the method declares); the client checks what
 * arrives means what was sent both ways, that an error keeps its status and
 * fields, and that a call that fails fails alone (a control call on the same
 * channel still works). Returns what went wrong, one line each.
 */
import type { Method, ServiceDecl } from "../../idl/index.ts";
import type { Channel } from "../../src/rpc/client.ts";
import type { MethodDescriptor, ServiceBinding, ServiceDescriptor } from "../../src/rpc/descriptor.ts";
import { isRpcErrorLike, statusName } from "../../src/rpc/status.ts";
import { M } from "../rpc/helpers/fixtures.ts";
import type { GeneratedVersion } from "./generated.ts";
import { differ } from "./meaning.ts";
import { refTo, valueOf } from "./values.ts";

/** What the next call to a tagged method must do on the server. */
interface Plan {
  /** Index of the representative answers; -1: throw `error` instead. */
  answer: number;
  error: string | undefined;
  received: unknown[];
}

/** The server side of one version under one tag: its bindings and the plan of each method path. */
export interface ServedVersion {
  readonly tag: string;
  readonly version: GeneratedVersion;
  readonly bindings: ServiceBinding[];
  readonly plans: Map<string, Plan>;
}

const tagged = (tag: string, service: string): string => `${tag}.${service}`;

function methodDecl(v: GeneratedVersion, service: string, method: string): Method | undefined {
  const s = v.model.byName.get(service);
  return s?.kind === "service" ? s.methods.find((m) => m.name === method) : undefined;
}

/** The answers a server of `v` sends for a method: values 0 and 1 of its output (optional fields left out, then set). */
function answers(v: GeneratedVersion, m: Method, index: number): unknown[] {
  const t = refTo(v.model, m.output);
  return index === 2 ? [valueOf(v.model, t, 0), valueOf(v.model, t, 1)] : [valueOf(v.model, t, index)];
}

function errorToThrow(v: GeneratedVersion, code: string): Error {
  const cls = v.errorClasses.get(code);
  if (cls === undefined) throw new Error(`${v.label}: no error class ${code}`);
  return new cls(valueOf(v.model, refTo(v.model, code), 1) as object);
}

/** Binds every service of `v` under `tag`, with handlers driven by a plan per method. */
export function serve(tag: string, v: GeneratedVersion): ServedVersion {
  const plans = new Map<string, Plan>();
  const bindings = v.services.map((sd): ServiceBinding => {
    const methods: Record<string, MethodDescriptor> = {};
    const impl: Record<string, unknown> = {};
    for (const [name, md] of Object.entries(sd.methods)) {
      const path = `${tagged(tag, sd.name)}/${name}`;
      const plan: Plan = { answer: 1, error: undefined, received: [] };
      plans.set(path, plan);
      methods[name] = { ...md, service: tagged(tag, sd.name), path };
      const decl = methodDecl(v, sd.name, name)!;
      const reply = (): unknown[] => {
        if (plan.error !== undefined) throw errorToThrow(v, plan.error);
        return answers(v, decl, plan.answer);
      };
      impl[name] =
        md.kind === "unary" ? (req: unknown) => (plan.received.push(req), reply()[0])
        : md.kind === "server_stream" ? (req: unknown) => (plan.received.push(req), reply())
        : md.kind === "client_stream" ? async (reqs: AsyncIterable<unknown>) => {
            for await (const r of reqs) plan.received.push(r);
            return reply()[0];
          }
        : async function* (reqs: AsyncIterable<unknown>) {
            for await (const r of reqs) plan.received.push(r);
            yield* reply();
          };
    }
    const descriptor: ServiceDescriptor = { name: tagged(tag, sd.name), methods };
    return { descriptor, impl, validate: true, unimplemented: [] };
  });
  return { tag, version: v, bindings, plans };
}

async function drain(s: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of s) out.push(x);
  return out;
}

const OPTS = { timeoutMs: 3000 };

/** One call of `md` with `reqs` (one request for unary and server streaming); resolves to the answers. */
async function invoke(ch: Channel, md: MethodDescriptor, reqs: unknown[]): Promise<unknown[]> {
  switch (md.kind) {
    case "unary": return [await ch.unary(md, reqs[0], OPTS)];
    case "server_stream": return drain(ch.serverStream(md, reqs[0], OPTS));
    case "client_stream": return [await ch.clientStream(md, reqs, OPTS)];
    case "bidi": return drain(ch.bidi(md, reqs, OPTS));
  }
}

function why(e: unknown): string {
  return isRpcErrorLike(e) ? `${statusName(e.status)} (${e.code}): ${e.message}` : `not an RpcError: ${String(e)}`;
}

/**
 * Calls every method of `client` that `server` should answer (all of the
 * client's methods when the client is the older side, the ones both versions
 * have otherwise): normal calls, then one per error the server's method
 * declares. `ch` reaches the server hosting `served`.
 */
export async function callAll(ch: Channel, client: GeneratedVersion, served: ServedVersion, clientIsOlder: boolean): Promise<string[]> {
  const problems: string[] = [];
  const server = served.version;
  const control = async (after: string) => {
    const ok = await ch.unary(M.echo, { text: "still there" }, OPTS).then((r) => (r as { text: string }).text, (e: unknown) => why(e));
    if (ok !== "still there") problems.push(`${after}: the channel stopped working (control call: ${ok})`);
  };
  for (const sd of client.services) {
    const sdecl = client.model.byName.get(sd.name) as ServiceDecl;
    for (const m of sdecl.methods) {
      const serverMethod = methodDecl(server, sd.name, m.name);
      if (!clientIsOlder && serverMethod === undefined) continue; // a new method an old server never had: not a compatibility question
      const md = sd.methods[m.name]!;
      const path = `${tagged(served.tag, sd.name)}/${m.name}`;
      const call: MethodDescriptor = { ...md, service: tagged(served.tag, sd.name), path };
      const plan = served.plans.get(path);
      const where = `${client.label} client -> ${server.label} server: ${sd.name}/${m.name}`;
      const oneIn = m.kind === "unary" || m.kind === "server_stream";
      const inputs = (i: number) => (oneIn ? [i] : [0, 1]).map((j) => valueOf(client.model, refTo(client.model, m.input), j));
      // Rounds are answer indexes: one request and one answer each for unary and server streaming; two requests for the rest, and two answers for bidi.
      const rounds = oneIn ? [0, 1] : m.kind === "client_stream" ? [1] : [2];
      for (const round of rounds) {
        const sent = inputs(round);
        if (plan !== undefined) Object.assign(plan, { answer: round, error: undefined, received: [] });
        let got: unknown[];
        try {
          got = await invoke(ch, call, sent);
        } catch (e) {
          problems.push(`${where}: call fails: ${why(e)}`);
          await control(where);
          continue;
        }
        if (plan === undefined || serverMethod === undefined) continue;
        compareAll(problems, `${where}: request`, client, m.input, sent, server, serverMethod.input, plan.received);
        compareAll(problems, `${where}: answer`, server, serverMethod.output, answers(server, serverMethod, round), client, m.output, got);
      }
      if (plan === undefined || serverMethod === undefined) continue;
      for (const code of serverMethod.throws) {
        Object.assign(plan, { answer: 1, error: code, received: [] });
        const err = await invoke(ch, call, inputs(1)).then(() => undefined, (e: unknown) => e);
        const expected = server.errorTypes.get(code)!;
        if (err === undefined) problems.push(`${where}: ${code} thrown, but the call succeeded`);
        else if (!isRpcErrorLike(err)) problems.push(`${where}: ${code} thrown, client got ${String(err)}`);
        else {
          if (err.status !== expected.status) problems.push(`${where}: ${code} thrown with ${statusName(expected.status)}, client sees ${statusName(err.status)}`);
          const known = md.errors.find((t) => t.code === err.code);
          if (known !== undefined && client.model.byName.has(err.code)) {
            const d = differ(
              { v: server, type: refTo(server.model, code), value: valueOf(server.model, refTo(server.model, code), 1) },
              { v: client, type: refTo(client.model, err.code), value: err },
            );
            if (d !== null) problems.push(`${where}: ${code} fields changed meaning: ${d}`);
          }
        }
        await control(`${where} (${code})`);
      }
    }
  }
  return problems;
}

function compareAll(problems: string[], where: string, wv: GeneratedVersion, wt: string, sent: unknown[], rv: GeneratedVersion, rt: string, got: unknown[]): void {
  if (sent.length !== got.length) {
    problems.push(`${where}: ${sent.length} sent, ${got.length} arrived`);
    return;
  }
  sent.forEach((value, i) => {
    const d = differ({ v: wv, type: refTo(wv.model, wt), value }, { v: rv, type: refTo(rv.model, rt), value: got[i] });
    if (d !== null) problems.push(`${where} #${i} changed meaning: ${d}`);
  });
}
