/**
 * The properties every generated-codec case must keep (the fuzz oracle of
 * the codecs). Decoding any bytes either
 * - throws the codec's DecodeError, which the server's decodeInput
 *   (src/rpc/server-call.ts) turns into INVALID_ARGUMENT naming the field
 *   path, or
 * - returns a value that passes the zod schema and the generated validator,
 *   that decodeInput accepts, and that re-encodes to bytes which decode to
 *   an equal value and re-encode to themselves;
 * never another exception, never a header length past the remaining bytes
 * (checking-reader.ts). A valid value must encode, decode back equal and
 * re-encode to the same bytes. Owns these checks.
 */
import { DecodeError } from "../../src/codec/errors.ts";
import { MsgReader } from "../../src/codec/reader.ts";
import { MsgWriter } from "../../src/codec/writer.ts";
import type { MethodDescriptor } from "../../src/rpc/descriptor.ts";
import { decodeInput, InvalidInput } from "../../src/rpc/server-call.ts";
import { BoundsViolation, CheckingReader } from "./checking-reader.ts";
import type { CodecTarget } from "./codec-targets.ts";
import { describeThrown, type Finding, thrownKind } from "./finding.ts";
import { firstDifference } from "./same-value.ts";

const writer = new MsgWriter(1024);

function encode(t: CodecTarget, v: unknown): Uint8Array {
  writer.reset();
  t.encode(writer, v);
  return writer.bytes().slice();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function isCodecError(e: unknown): e is DecodeError {
  return e instanceof DecodeError && e.name === "DecodeError" && e.code === "DECODE_ERROR";
}

/** A method whose input is t, as the server's decodeInput needs it. */
function asMethod(t: CodecTarget): MethodDescriptor | null {
  return t.messageType === null ? null : ({ path: `fuzz/${t.name}`, input: t.messageType } as MethodDescriptor);
}

/** Decodes `bytes` with t through the checking reader: the value and where it stopped, or the thrown value. */
function decode(t: CodecTarget, bytes: Uint8Array): { ok: true; value: unknown; end: number } | { ok: false; thrown: unknown } {
  const r = new CheckingReader(bytes);
  let out: { ok: true; value: unknown; end: number } | { ok: false; thrown: unknown };
  try {
    out = { ok: true, value: t.decode(r), end: r.pos };
  } catch (e) {
    out = { ok: false, thrown: e };
  }
  // A generated decoder wraps what it catches into a DecodeError: the reader's own record is the truth.
  return r.violation === null ? out : { ok: false, thrown: r.violation };
}

/** The foreign error a DecodeError wraps (DecodeError.at keeps it as `cause`), or null for a proper rejection. */
export function wrappedForeignError(e: DecodeError): unknown {
  const c = e.cause;
  return c === undefined || c instanceof DecodeError ? null : c;
}

/** The server's view of the same bytes must agree with the codec's (decodeInput, validation on). */
function checkServerMapping(t: CodecTarget, bytes: Uint8Array, end: number, err: DecodeError | null): Finding | null {
  const m = asMethod(t);
  if (m === null) return null;
  const got = decodeInput(m, new MsgReader(bytes), end, true);
  if (err === null) return got instanceof InvalidInput ? { property: "server refuses a value the codec accepts", detail: got.message } : null;
  if (!(got instanceof InvalidInput)) return { property: "server accepts what the codec refuses", detail: `codec threw ${err.message}` };
  const prefix = `could not decode ${t.name}: `;
  const named = err.path === "" ? prefix : `${prefix}field ${err.path}: `;
  if (!got.message.startsWith(named)) return { property: "INVALID_ARGUMENT does not name the field", detail: `codec: ${err.message}; server: ${got.message}` };
  return null;
}

/** Checks what decoding hostile `bytes` with t gives; null when every property holds. `tally` hears which way it went. */
export function checkCodecInput(t: CodecTarget, bytes: Uint8Array, tally?: (outcome: string) => void): Finding | null {
  const first = decode(t, bytes);
  if (!first.ok) {
    const e = first.thrown;
    if (e instanceof BoundsViolation) return { property: "header length past the input", detail: e.message };
    if (!isCodecError(e)) return { property: `decoder threw ${thrownKind(e)}`, detail: describeThrown(e) };
    const foreign = wrappedForeignError(e);
    if (foreign !== null) return { property: `decoder threw ${thrownKind(foreign)} (wrapped in a DecodeError)`, detail: `${e.path}: ${describeThrown(foreign)}` };
    tally?.("codec: DecodeError");
    return checkServerMapping(t, bytes, -1, e);
  }
  tally?.("codec: decoded");
  const v = first.value;
  const parsed = t.schema.safeParse(t.view(v));
  if (!parsed.success) return { property: "decoded value fails the zod schema", detail: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
  const issue = t.validate?.(v) ?? null;
  if (issue !== null) return { property: "decoded value fails the generated validator", detail: `${issue.path}: ${issue.message}` };
  const mapped = checkServerMapping(t, bytes, first.end, null);
  if (mapped !== null) return mapped;
  let again: Uint8Array;
  try {
    again = encode(t, v);
  } catch (e) {
    return { property: "decoded value does not re-encode", detail: describeThrown(e) };
  }
  const second = decode(t, again);
  if (!second.ok) return { property: "re-encoded value does not decode", detail: describeThrown(second.thrown) };
  if (second.end !== again.length) return { property: "re-encoded value leaves bytes", detail: `${again.length - second.end} of ${again.length}` };
  const diff = firstDifference(t.view(v), t.view(second.value));
  if (diff !== null) return { property: "re-encoded value decodes differently", detail: diff };
  const third = encode(t, second.value);
  if (!sameBytes(again, third)) return { property: "re-encoding is not stable", detail: `${Buffer.from(again).toString("hex")} vs ${Buffer.from(third).toString("hex")}` };
  return null;
}

/** A valid value must encode, decode back equal, pass the schema and re-encode to the same bytes. */
export function checkCodecValue(t: CodecTarget, v: unknown): { bytes: Uint8Array } | Finding {
  let bytes: Uint8Array;
  try {
    bytes = encode(t, v);
  } catch (e) {
    return { property: "valid value does not encode", detail: describeThrown(e) };
  }
  const back = decode(t, bytes);
  if (!back.ok) return { property: "valid value does not decode", detail: describeThrown(back.thrown) };
  if (back.end !== bytes.length) return { property: "valid value leaves bytes", detail: `${bytes.length - back.end} of ${bytes.length}` };
  const diff = firstDifference(t.view(v), t.view(back.value));
  if (diff !== null) return { property: "valid value does not round-trip", detail: diff };
  const parsed = t.schema.safeParse(t.view(back.value));
  if (!parsed.success) return { property: "valid value fails the zod schema", detail: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
  const again = encode(t, back.value);
  if (!sameBytes(bytes, again)) return { property: "valid value re-encodes differently", detail: `${Buffer.from(bytes).toString("hex")} vs ${Buffer.from(again).toString("hex")}` };
  return { bytes };
}
