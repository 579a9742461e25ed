/**
 * The list of gRPC's interop cases (grpc/grpc doc/interop-test-descriptions.md,
 * plus the two very_large_* cases of grpc-java's interop client) and what
 * ringrpc makes of each: mapped (a test of that name in cases.test.ts) or
 * not, and why. docs/RPC.md's "gRPC interop cases" table shows the same
 * list (doc-table.test.ts keeps them equal); cases.test.ts registers a test
 * for every mapped case and fails when one is missing. Data only.
 */

export interface GrpcCase {
  /** gRPC's name for the case; the title of its test in cases.test.ts when mapped. */
  name: string;
  mapped: boolean;
  /** How it maps (what differs from gRPC's form), or why it cannot. */
  note: string;
}

const AUTH = "Google credentials (GCE, JWT, OAuth2) over TLS; ringrpc has no call credentials (a token in metadata, checked by `authorize`, is test/rpc/authorize.test.ts)";

export const GRPC_CASES: readonly GrpcCase[] = [
  { name: "empty_unary", mapped: true, note: "" },
  { name: "cacheable_unary", mapped: false, note: "needs an HTTP GET answered by a caching proxy; a ringrpc call is a frame on a connection, not an HTTP request, and has no cacheable option" },
  { name: "large_unary", mapped: true, note: "" },
  {
    name: "client_compressed_unary",
    mapped: true,
    note: "compressed and plain requests, checked by the bytes the server read; gRPC's `expect_compressed` probe is not mappable (a handler never sees whether its message arrived compressed)",
  },
  {
    name: "server_compressed_unary",
    mapped: true,
    note: "gRPC asks per call; ringrpc compresses for a client that accepts it, so a channel with compression and one without, checked by the bytes the server wrote",
  },
  { name: "client_streaming", mapped: true, note: "" },
  {
    name: "client_compressed_streaming",
    mapped: true,
    note: "gRPC compresses one message of two; ringrpc compresses every message from `minBytes` on for a server that accepts it, so the same stream over a compressing channel and a plain one, checked by the bytes the server read; zstd where Bun has it",
  },
  { name: "server_streaming", mapped: true, note: "" },
  {
    name: "server_compressed_streaming",
    mapped: true,
    note: "gRPC turns compression off for one response of two; ringrpc has no per-message switch, so the same stream over a compressing channel and a plain one, checked by the bytes the server wrote; zstd where Bun has it",
  },
  { name: "ping_pong", mapped: true, note: "" },
  { name: "empty_stream", mapped: true, note: "" },
  { name: "compute_engine_creds", mapped: false, note: AUTH },
  { name: "jwt_token_creds", mapped: false, note: AUTH },
  { name: "oauth2_auth_token", mapped: false, note: AUTH },
  { name: "per_rpc_creds", mapped: false, note: AUTH },
  { name: "google_default_credentials", mapped: false, note: AUTH },
  { name: "compute_engine_channel_credentials", mapped: false, note: AUTH },
  { name: "custom_metadata", mapped: true, note: "unary and full duplex; the echoed key has two values, the trailer is binary, and the full duplex headers arrive before any message (`ctx.sendHeaders()`)" },
  { name: "status_code_and_message", mapped: true, note: "" },
  { name: "special_status_message", mapped: true, note: "" },
  { name: "unimplemented_method", mapped: true, note: "the method is listed in `bindTestService(impl, { unimplemented: [...] })`" },
  { name: "unimplemented_service", mapped: true, note: "" },
  { name: "cancel_after_begin", mapped: true, note: "" },
  { name: "cancel_after_first_response", mapped: true, note: "" },
  { name: "timeout_on_sleeping_server", mapped: true, note: "" },
  {
    name: "concurrent_large_unary",
    mapped: true,
    note: "1,000 large_unary calls at once on one channel, as gRPC's description says; the client encodes a request only while its connection's output is under `writeHighWaterBytes`, the rest wait unencoded",
  },
  { name: "very_large_request", mapped: true, note: "grpc-java's case: a 10 MiB request, past ringrpc's default 4 MiB `maxFrameBytes`, so both sides raise it" },
  { name: "very_large_response", mapped: true, note: "grpc-java's case: a 10 MiB response, the client's `maxFrameBytes` raised" },
  { name: "pick_first_unary", mapped: false, note: "checks the pick_first load-balancing policy; a ringrpc channel balances round_robin or least_outstanding" },
  { name: "orca_per_rpc", mapped: false, note: "ORCA load reports; ringrpc has none" },
  { name: "orca_oob", mapped: false, note: "ORCA load reports; ringrpc has none" },
  { name: "rpc_soak", mapped: false, note: "minutes of calls, not a unit test; `npm run soak` (scripts/soak.ts) is ringrpc's soak" },
  { name: "channel_soak", mapped: false, note: "as rpc_soak, with a new channel per call" },
  { name: "long_lived_channel", mapped: false, note: "a channel kept for hours; not a unit test" },
];

/** The mapped cases' names, in list order. */
export const MAPPED_CASES: readonly string[] = GRPC_CASES.filter((c) => c.mapped).map((c) => c.name);
