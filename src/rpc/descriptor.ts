/**
 * The contract between generated code (codegen/) and the RPC layer (src/rpc/).
 * Generated files export one ServiceDescriptor per IDL service, a client class
 * built on a CallInvoker, and a server interface whose handlers receive a
 * CallContext. Owns only types: no behaviour lives here.
 */
import type { MsgReader } from "../codec/reader.ts";
import type { MsgWriter } from "../codec/writer.ts";
import type { MetadataMap, MetadataValue } from "./metadata-map.ts";
import type { RpcError, StatusCode } from "./status.ts";

export type MethodKind = "unary" | "server_stream" | "client_stream" | "bidi";

/**
 * Metadata values are strings or bytes; keys are lower-case ASCII. A key
 * shows its first value; a record ringrpc hands over (or one made by
 * MetadataMap.toRecord()) also keeps a key's further values, which
 * `MetadataMap.from(md).getAll(key)` returns and which go on the wire when
 * the record is sent on (docs/RPC.md, "Metadata").
 */
export type Metadata = Record<string, string | Uint8Array>;

/** A path-named problem found while decoding or validating a message. */
export interface ValidationIssue {
  /** Dotted path of the bad field, e.g. "items[3].key". Empty for the root. */
  path: string;
  message: string;
}

/** A message type with its specialised codec and validator (generated). */
export interface MessageType<T> {
  /** Fully qualified IDL name, e.g. "kv.v1.GetRequest". */
  readonly typeName: string;
  /**
   * Appends the msgpack encoding of v (docs/ENCODING.md). A value that does
   * not fit the IDL type throws EncodeError naming the message and field
   * (`GetReply.entry.key: expected string, got undefined`); the writer may
   * hold a partial value then (the frame writers roll it back).
   */
  encode(w: MsgWriter, v: T): void;
  /** Reads one value; throws DecodeError (with a field path) on malformed input. */
  decode(r: MsgReader): T;
  /**
   * Structural checks of a value that claims to be a T (it may come from
   * untrusted code, so it is typed unknown); the first problem, or null.
   */
  validate(v: unknown): ValidationIssue | null;
  /**
   * decode() returns only values validate() accepts (true for generated
   * codecs: they decode each field as its IDL type, and the fuzz oracle
   * holds them to it), so a server asked to validate requests skips
   * validate() after decoding one.
   */
  readonly decoderValidates?: boolean;
}

/**
 * A typed IDL error a method may raise (generated class + codec). `E` is the
 * generated class, so `KeyNotFoundType.is(e)` narrows an `unknown` catch
 * variable to `KeyNotFound` (fields included).
 */
export interface ErrorType<E extends RpcError = RpcError> {
  /** Stable code, the IDL error's qualified name, e.g. "kv.v1.KeyNotFound". */
  readonly code: string;
  /** Status the error travels with (FAILED_PRECONDITION unless the IDL says otherwise). */
  readonly status: StatusCode;
  /** Encodes the error's fields (a struct body); throws EncodeError naming a bad field. */
  encode(w: MsgWriter, e: RpcError): void;
  /** Rebuilds the generated error class instance from its fields. */
  decode(r: MsgReader, message: string): E;
  /** True when e is this error (by code, not instanceof): a type guard. */
  is(e: unknown): e is E;
}

export interface MethodDescriptor<I = unknown, O = unknown> {
  /** Fully qualified service name, e.g. "kv.v1.KeyValue". */
  readonly service: string;
  /** Method name as written in the IDL, e.g. "get". */
  readonly name: string;
  /** Wire name "<service>/<name>", unique per server. */
  readonly path: string;
  readonly kind: MethodKind;
  readonly input: MessageType<I>;
  readonly output: MessageType<O>;
  /** Safe to retry automatically (IDL option `idempotent`). */
  readonly idempotent: boolean;
  /** Default deadline in ms from the IDL, if any. */
  readonly deadlineMs: number | undefined;
  readonly errors: readonly ErrorType[];
}

/**
 * The IDL a service was generated from, as reflection serves it
 * (ringrpc.reflection.v1): the .ridl file declaring the service and every
 * file it imports, directly or not, with paths relative to one directory so
 * their `import` statements resolve between them.
 */
export interface ServiceIdl {
  /** Path (one of `files`) of the file that declares the service. */
  readonly file: string;
  readonly files: readonly { readonly path: string; readonly text: string }[];
}

export interface ServiceDescriptor {
  readonly name: string;
  /** Keyed by IDL method name. */
  readonly methods: Readonly<Record<string, MethodDescriptor>>;
  /** The service's IDL source (generated descriptors carry it; a hand-written one may not). */
  readonly idl?: ServiceIdl | undefined;
}

/** Per-call options on the client. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Relative timeout in ms; overrides the method's IDL default. */
  timeoutMs?: number;
  /** Absolute deadline, ms since epoch (Date.now() clock). */
  deadline?: number;
  /** Request metadata; several values per key: `new MetadataMap().add(k, a).add(k, b).toRecord()`. */
  metadata?: Metadata;
  /** Receives the server's response headers when they arrive (`MetadataMap.from(headers)` has every value). */
  onHeaders?: (headers: Metadata) => void;
  /** Receives the trailers at the end of the call (`MetadataMap.from(trailers)` has every value). */
  onTrailers?: (trailers: Metadata) => void;
}

/** What a generated client calls; implemented by the RPC client (src/rpc/). */
export interface CallInvoker {
  unary<I, O>(m: MethodDescriptor<I, O>, req: I, opts?: CallOptions): Promise<O>;
  serverStream<I, O>(m: MethodDescriptor<I, O>, req: I, opts?: CallOptions): AsyncIterable<O>;
  clientStream<I, O>(m: MethodDescriptor<I, O>, reqs: AsyncIterable<I> | Iterable<I>, opts?: CallOptions): Promise<O>;
  bidi<I, O>(m: MethodDescriptor<I, O>, reqs: AsyncIterable<I> | Iterable<I>, opts?: CallOptions): AsyncIterable<O>;
}

/** What a server handler receives beside its request. */
export interface CallContext {
  readonly method: MethodDescriptor;
  /** The request metadata, the first value of each key. */
  readonly metadata: Metadata;
  /** The request metadata with every value of each key (`getAll`). */
  readonly metadataMap: MetadataMap;
  /** Absolute deadline (ms since epoch), or undefined for none. */
  readonly deadline: number | undefined;
  /** Aborted on client cancel, deadline, connection loss or server shutdown. */
  readonly signal: AbortSignal;
  readonly peer: { address: string; port: number } | null;
  /** Sets a response header, replacing the values it had (an array sets several). */
  setHeader(key: string, value: MetadataValue | readonly MetadataValue[]): void;
  /** Adds a value to a response header (keeping those it had). */
  addHeader(key: string, value: MetadataValue): void;
  /**
   * Sends the response headers now (a HEADERS frame, empty when none were
   * set), before the first response message: a streaming handler can answer
   * its client's `onHeaders` before it has anything to send. setHeader then
   * throws FAILED_PRECONDITION; a second call, or one after the call ended,
   * does nothing. Without it, headers go out with the first message.
   */
  sendHeaders(): void;
  /** Sets a trailer, replacing the values it had (an array sets several). */
  setTrailer(key: string, value: MetadataValue | readonly MetadataValue[]): void;
  /** Adds a value to a trailer (keeping those it had). */
  addTrailer(key: string, value: MetadataValue): void;
}

/** Handler shapes per method kind; generated server interfaces use these. */
export type UnaryHandler<I, O> = (req: I, ctx: CallContext) => O | Promise<O>;
export type ServerStreamHandler<I, O> = (req: I, ctx: CallContext) => AsyncIterable<O> | Iterable<O>;
export type ClientStreamHandler<I, O> = (reqs: AsyncIterable<I>, ctx: CallContext) => O | Promise<O>;
export type BidiHandler<I, O> = (reqs: AsyncIterable<I>, ctx: CallContext) => AsyncIterable<O> | Iterable<O>;

/** A service descriptor bound to its implementation, ready to serve. */
export interface ServiceBinding {
  readonly descriptor: ServiceDescriptor;
  readonly impl: object;
  /** Ingress validation of requests (default true). */
  readonly validate: boolean;
  /**
   * Methods (by name) deliberately left out of `impl`: their calls get
   * UNIMPLEMENTED, as gRPC answers for a method a server does not have yet.
   * A method missing from `impl` and not listed here stops the server from
   * starting.
   */
  readonly unimplemented?: readonly string[];
}
