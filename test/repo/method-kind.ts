/**
 * The compiler (idl/model.ts) and the runtime (src/rpc/descriptor.ts) each
 * define MethodKind, because the layering lets neither import the other
 * (test/repo/layers.ts); generated code carries the value from one to the
 * other. This file is part of the tsc project (`npm run typecheck`) and never
 * runs: if the two unions ever differ, one of these assignments stops
 * compiling.
 */
import type { MethodKind as IdlMethodKind } from "../../idl/model.ts";
import type { MethodKind as RpcMethodKind } from "../../src/rpc/descriptor.ts";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const methodKindsAgree: Same<IdlMethodKind, RpcMethodKind> = true;
