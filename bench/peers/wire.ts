/**
 * Wire vocabulary of the Bun.listen peer: frame types, GOAWAY reasons, status
 * codes and limits from docs/PROTOCOL.md, written here from the document (the
 * peer shares no code with ringrpc), plus the one Packr and one Unpackr the
 * whole process uses. Owns numbers and codec setup only.
 */
import { addExtension, Packr, Unpackr } from "msgpackr";

export const PROTOCOL_VERSION = 1;

export const FRAME_HELLO = 1;
export const FRAME_REQUEST = 2;
export const FRAME_MESSAGE = 3;
export const FRAME_HALF_CLOSE = 4;
export const FRAME_RESPONSE = 5;
export const FRAME_HEADERS = 6;
export const FRAME_STATUS = 7;
export const FRAME_CANCEL = 8;
export const FRAME_WINDOW = 9;
export const FRAME_PING = 10;
export const FRAME_PONG = 11;
export const FRAME_GOAWAY = 12;

/** REQUEST flags: bit 0 END_STREAM; bits 1-3 the kind the client declares (0 none, 5-7 reserved = none). */
export const END_STREAM = 1;
export const DECLARED_KINDS: readonly (string | null)[] = [null, "unary", "server_stream", "client_stream", "bidi", null, null, null];

export const GOAWAY_PROTOCOL_ERROR = 1;
export const GOAWAY_FRAME_TOO_LARGE = 2;
export const GOAWAY_UNSUPPORTED_VERSION = 3;
export const GOAWAY_HANDSHAKE_TIMEOUT = 4;
export const GOAWAY_MALFORMED_FRAME = 7;
export const GOAWAY_UNKNOWN_FRAME_TYPE = 8;

export const STATUS_OK = 0;
export const STATUS_INVALID_ARGUMENT = 3;
export const STATUS_RESOURCE_EXHAUSTED = 8;
export const STATUS_UNIMPLEMENTED = 12;
export const STATUS_INTERNAL = 13;

/** Limits this peer advertises in its HELLO (what it accepts). */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
export const MAX_CONCURRENT_CALLS = 1000;
export const INITIAL_WINDOW = 64;
export const MAX_METADATA_BYTES = 8192;
export const FIRST_FRAME_TIMEOUT_MS = 10_000;

/** Defaults assumed for the client until its HELLO arrives. */
export const DEFAULT_PEER_WINDOW = 64;
export const DEFAULT_PEER_MAX_FRAME_BYTES = 4 * 1024 * 1024;

/**
 * msgpackr registers extensions process-wide and its default set builds
 * RegExp, Error, Set, typed arrays, BigInt and structured-clone references
 * from wire bytes. This process decodes only untrusted frames, so every
 * extension except the timestamp (-1, which the protocol allows) is replaced
 * by one that refuses; the refusal surfaces as a decode error.
 */
const REFUSED_EXTENSIONS = [0x00, 0x42, 0x62, 0x65, 0x69, 0x70, 0x73, 0x74, 0x78];
function refuseExtension(): never {
  throw new Error("msgpack extension types are not accepted");
}
for (const type of REFUSED_EXTENSIONS) addExtension({ type, unpack: refuseExtension });

/**
 * Decodes whole frame bodies. Maps stay Maps: struct fields are keyed by int
 * field id (docs/ENCODING.md) and an object would turn 1 into "1".
 * int64AsType "number": no 64-bit field is read by this service.
 */
export const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: false,
  int64AsType: "number",
  structuredClone: false,
  copyBuffers: false,
});

/** Encodes whole frame bodies; callers copy the result out before the next pack. */
export const packr = new Packr({ useRecords: false, mapsAsObjects: false, structuredClone: false });
