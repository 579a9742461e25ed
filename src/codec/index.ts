/**
 * The msgpack codec primitives used by generated code and the RPC frames:
 * MsgWriter, MsgReader and DecodeError. Public entry point `ringrpc/codec`.
 */
export { MsgWriter } from "./writer.ts";
export { MsgReader, describeByte } from "./reader.ts";
export { DecodeError, EncodeLimitError, joinPath } from "./errors.ts";
