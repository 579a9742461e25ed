/**
 * The msgpack codec primitives used by generated code and the RPC frames:
 * MsgWriter, MsgReader, DecodeError and EncodeError, describeValue, and
 * peerText for quoting what a peer sent in an error message. Public entry
 * point `ringrpc/codec`.
 */
export { MsgWriter } from "./writer.ts";
export { MsgReader, describeByte } from "./reader.ts";
export { DecodeError, EncodeError, EncodeLimitError, joinPath, type EncodeProblem } from "./errors.ts";
export { describeValue } from "./describe-value.ts";
export { PEER_TEXT_MAX_CHARS, peerText, type PeerTextOptions } from "./peer-text.ts";
