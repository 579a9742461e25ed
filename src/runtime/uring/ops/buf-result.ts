/**
 * bufResult: the owned-buffer result every read and write answers with
 * (types.ts BufResult): the count or -errno, the very buffer, and the typed
 * error exactly when res < 0.
 */
import { ioError } from "../../errors.ts";
import type { BufResult } from "../../types.ts";

export function bufResult<B extends Uint8Array>(res: number, buf: B, syscall: string, detail?: string): BufResult<B> {
  return { res, buf, error: res < 0 ? ioError(res, syscall, detail) : null };
}
