/**
 * Generates every version of every pair with the real code generator into
 * one temporary directory (once per test file) and imports the result. A
 * GeneratedVersion is what the rest of the suite needs from the generated
 * code: the codec of each struct, union and error by qualified name, the
 * typed error classes, and the service descriptors. Found by what the
 * exports are (typeName, code, methods), never by guessing names.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { generate } from "../../codegen/index.ts";
import type { MsgReader, MsgWriter } from "../../src/codec/index.ts";
import type { ErrorType, MessageType, ServiceDescriptor } from "../../src/rpc/descriptor.ts";
import type { RpcError } from "../../src/rpc/status.ts";
import { type Pair, ROLES, type Version } from "./pairs.ts";

/** Encodes and decodes one struct, union or error's fields, whatever the generated export looks like. */
export interface Codec {
  encode(w: MsgWriter, v: unknown): void;
  decode(r: MsgReader): unknown;
}

export type ErrorClass = new (fields: object) => RpcError;

export interface GeneratedVersion extends Version {
  readonly codecs: ReadonlyMap<string, Codec>;
  readonly errorTypes: ReadonlyMap<string, ErrorType>;
  readonly errorClasses: ReadonlyMap<string, ErrorClass>;
  readonly services: readonly ServiceDescriptor[];
}

const root = resolve(import.meta.dir, "../..");

function collect(version: Version, modules: Record<string, unknown>[]): GeneratedVersion {
  const codecs = new Map<string, Codec>();
  const errorTypes = new Map<string, ErrorType>();
  const errorClasses = new Map<string, ErrorClass>();
  const services: ServiceDescriptor[] = [];
  for (const mod of modules) {
    for (const x of Object.values(mod)) {
      if (typeof x === "function" && typeof (x as { code?: unknown }).code === "string") errorClasses.set((x as unknown as { code: string }).code, x as ErrorClass);
      if (typeof x !== "object" || x === null) continue;
      const o = x as Record<string, unknown>;
      if (typeof o.typeName === "string" && typeof o.encode === "function") codecs.set(o.typeName, x as MessageType<unknown> as Codec);
      else if (typeof o.code === "string" && typeof o.encode === "function") {
        const et = x as ErrorType;
        errorTypes.set(et.code, et);
        codecs.set(et.code, { encode: (w, v) => et.encode(w, v as RpcError), decode: (r) => et.decode(r, "") });
      } else if (typeof o.name === "string" && typeof o.methods === "object") services.push(x as ServiceDescriptor);
    }
  }
  return { ...version, codecs, errorTypes, errorClasses, services };
}

export interface GeneratedPairs {
  readonly byPair: ReadonlyMap<string, Partial<Record<(typeof ROLES)[number], GeneratedVersion>>>;
  /** Removes the temporary directory. */
  dispose(): void;
}

/** Generates and imports every version of every pair. */
export async function generateAll(pairs: readonly Pair[]): Promise<GeneratedPairs> {
  const dir = mkdtempSync(join(tmpdir(), "ringrpc-wire-truth-"));
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  const byPair = new Map<string, Partial<Record<(typeof ROLES)[number], GeneratedVersion>>>();
  const pending: Promise<void>[] = [];
  for (const pair of pairs) {
    const out: Partial<Record<(typeof ROLES)[number], GeneratedVersion>> = {};
    byPair.set(pair.name, out);
    for (const role of ROLES) {
      const version = pair.versions[role];
      if (version === undefined) continue;
      const vdir = join(dir, pair.name, role);
      mkdirSync(vdir, { recursive: true });
      const files = generate(version.model, { version: "0.0.0-wire-truth", runtime: join(root, "src") });
      for (const f of files) writeFileSync(join(vdir, f.path), f.content);
      pending.push(
        Promise.all(files.map((f) => import(join(vdir, f.path)) as Promise<Record<string, unknown>>)).then((mods) => {
          out[role] = collect(version, mods);
        }),
      );
    }
  }
  await Promise.all(pending);
  return { byPair, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

