/**
 * The msgpack codec primitives used by generated code and the RPC frames:
 * MsgWriter, MsgReader, DecodeError and EncodeError, describeValue, and
 * peerText for quoting what a peer sent in an error message, and the
 * unknown values of open enums and unions. Public entry
 * point `ringrpc/codec`.
 */
export { MsgWriter } from "./writer.ts";
export { MsgReader, describeByte } from "./reader.ts";
export { DecodeError, EncodeError, EncodeLimitError, joinPath, type EncodeProblem } from "./errors.ts";
export { describeValue } from "./describe-value.ts";
export { PEER_TEXT_MAX_CHARS, peerText, type PeerTextOptions } from "./peer-text.ts";
export { UNKNOWN_VARIANT_KIND, unknownVariantIssue, type UnknownEnum, type UnknownVariant } from "./unknown-values.ts";
