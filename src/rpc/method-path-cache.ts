/**
 * Remembers the last method path a connection called, so a REQUEST for the
 * same method (the common case: a connection hammering one method) is
 * matched with a word compare (ByteRun) instead of decoding the path string
 * and hashing it for the method table on every call.
 */
import type { MsgReader } from "../codec/reader.ts";
import { ByteRun } from "./byte-run.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

export class MethodPathCache<T> {
  private readonly bytes: ByteRun;
  /** The path and method of the last resolve(). */
  path: string;
  value: T | undefined;

  constructor() {
    this.bytes = new ByteRun();
    this.path = "";
    this.value = undefined;
  }

  /**
   * Makes r.buf[start, end) the current path: the remembered one, or else
   * decoded and looked up with `table.lookup`. False when it is not UTF-8.
   */
  resolve(r: MsgReader, start: number, end: number, table: { lookup(path: string): T | undefined }): boolean {
    if (this.bytes.equals(r, start, end)) return true;
    let decoded: string;
    try {
      decoded = utf8.decode(r.buf.subarray(start, end));
    } catch {
      return false;
    }
    this.bytes.set(r, start, end);
    this.path = decoded;
    this.value = table.lookup(decoded);
    return true;
  }
}
