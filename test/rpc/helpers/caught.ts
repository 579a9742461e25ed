/**
 * caught(p): the error a call failed with; fails the test when it succeeded.
 */
import type { RpcError } from "../../../src/rpc/status.ts";

export async function caught(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    return e as RpcError;
  }
  throw new Error("expected the call to fail");
}
