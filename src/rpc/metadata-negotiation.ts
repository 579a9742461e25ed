/**
 * Several values per metadata key, negotiated (docs/PROTOCOL.md section 5,
 * docs/RPC.md "Metadata"): a peer that did not say `"metadata": "multi"` in
 * its HELLO (hello-extensions.ts) predates arrays and would close the whole
 * connection on one, so a sender never writes an array to it. This file
 * finds the key that would need one and words the error a call ends with
 * instead: FAILED_PRECONDITION on a client (nothing was sent), INTERNAL on
 * a server (the handler's metadata could not be sent). It never writes
 * anything and never touches the connection.
 */
import type { Metadata } from "./descriptor.ts";
import { extraValues, MetadataMap, recordValues } from "./metadata-map.ts";
import { RpcError, type StatusCode } from "./status.ts";

/** The first key of `md` with more than one value, or null (one flag check for a plain record: it keeps no extra values). */
export function multiValuedKey(md: Metadata | MetadataMap): string | null {
  if (md instanceof MetadataMap) {
    for (const k of md.keys()) if (md.valuesOf(k)!.length > 1) return k;
    return null;
  }
  const extra = extraValues(md);
  if (extra === undefined) return null;
  // A key reassigned since (in a copy) has one value again: recordValues says so.
  for (const k of extra.keys()) if ((recordValues(md, k)?.length ?? 0) > 1) return k;
  return null;
}

/** `server at h:p` / `client at a:p`, the peer the error names. */
export function peerName(role: "server" | "client", address: string | null): string {
  return address === null ? `the ${role}` : `${role} at ${address}`;
}

/**
 * The error for `what` (e.g. `metadata key "x-a"`, `header "x-h"`) having
 * several values for `peer`, which predates multi-valued metadata; `next`
 * says what happened and what to do.
 */
export function severalValuesRefused(status: StatusCode, peer: string, what: string, next: string): RpcError {
  return new RpcError(status, `${peer} does not accept several values for ${what} (it predates multi-valued metadata): ${next}`);
}
