/**
 * Remembers the last method path a connection called, as raw bytes, so a
 * REQUEST for the same method (the common case: a connection hammering one
 * method) is matched with a short byte compare instead of decoding the path
 * string and hashing it for the method table on every call.
 */
const utf8 = new TextDecoder("utf-8", { fatal: true });

export class MethodPathCache<T> {
  private bytes: Uint8Array;
  private len: number;
  /** The path and method of the last match() or remember(). */
  path: string;
  value: T | undefined;

  constructor() {
    this.bytes = new Uint8Array(64);
    this.len = -1;
    this.path = "";
    this.value = undefined;
  }

  /** True when buf[start, end) is the remembered path; `path`/`value` then hold it. */
  match(buf: Uint8Array, start: number, end: number): boolean {
    const n = end - start;
    if (n !== this.len) return false;
    const b = this.bytes;
    for (let i = 0; i < n; i++) if (buf[start + i] !== b[i]) return false;
    return true;
  }

  /**
   * Makes buf[start, end) the current path: the remembered one, or else
   * decoded and looked up with `table.lookup`. False when it is not UTF-8.
   */
  resolve(buf: Uint8Array, start: number, end: number, table: { lookup(path: string): T | undefined }): boolean {
    if (this.match(buf, start, end)) return true;
    let decoded: string;
    try {
      decoded = utf8.decode(buf.subarray(start, end));
    } catch {
      return false;
    }
    this.remember(buf, start, end, decoded, table.lookup(decoded));
    return true;
  }

  remember(buf: Uint8Array, start: number, end: number, path: string, value: T | undefined): void {
    const n = end - start;
    if (n > this.bytes.length) this.bytes = new Uint8Array(n);
    this.bytes.set(buf.subarray(start, end));
    this.len = n;
    this.path = path;
    this.value = value;
  }
}
