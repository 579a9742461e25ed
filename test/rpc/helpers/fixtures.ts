/**
 * Hand-written message types, a typed error and a test service for the RPC
 * tests (no generated code): messages are one-element msgpack arrays.
 */
import { DecodeError } from "../../../src/codec/errors.ts";
import type { MsgReader } from "../../../src/codec/reader.ts";
import type { MsgWriter } from "../../../src/codec/writer.ts";
import type { ErrorType, MessageType, MethodDescriptor, MethodKind, ServiceDescriptor } from "../../../src/rpc/descriptor.ts";
import { RpcError, Status } from "../../../src/rpc/status.ts";

export interface Text {
  text: string;
}
export interface Num {
  n: number;
}

export const TextType: MessageType<Text> = {
  typeName: "test.v1.Text",
  encode(w: MsgWriter, v: Text) {
    w.arrayHeader(1);
    w.str(v.text);
  },
  decode(r: MsgReader): Text {
    if (r.arrayHeader() !== 1) throw new DecodeError("expected 1 field");
    try {
      return { text: r.str() };
    } catch (e) {
      throw DecodeError.at(e, "text");
    }
  },
  validate(v: Text) {
    return v.text.length > 1000 ? { path: "text", message: "longer than 1000 characters" } : null;
  },
};

export const NumType: MessageType<Num> = {
  typeName: "test.v1.Num",
  encode(w: MsgWriter, v: Num) {
    w.arrayHeader(1);
    w.int(v.n);
  },
  decode(r: MsgReader): Num {
    if (r.arrayHeader() !== 1) throw new DecodeError("expected 1 field");
    try {
      return { n: r.int() };
    } catch (e) {
      throw DecodeError.at(e, "n");
    }
  },
  validate(v: Num) {
    return v.n < 0 ? { path: "n", message: "must not be negative" } : null;
  },
};

/** A typed IDL error with one field. */
export class KeyNotFound extends RpcError {
  override name = "KeyNotFound";
  constructor(
    readonly key: string,
    message = `no such key ${key}`,
  ) {
    super(Status.NOT_FOUND, message, "test.v1.KeyNotFound");
  }
}

export const KeyNotFoundType: ErrorType<KeyNotFound> = {
  code: "test.v1.KeyNotFound",
  status: Status.NOT_FOUND,
  encode(w: MsgWriter, e: RpcError) {
    w.arrayHeader(1);
    w.str((e as KeyNotFound).key);
  },
  decode(r: MsgReader, message: string) {
    r.arrayHeader();
    return new KeyNotFound(r.str(), message);
  },
  is(e: unknown): e is KeyNotFound {
    return typeof e === "object" && e !== null && (e as RpcError).code === "test.v1.KeyNotFound";
  },
};

function method<I, O>(name: string, kind: MethodKind, input: MessageType<I>, output: MessageType<O>, extra: Partial<MethodDescriptor> = {}): MethodDescriptor<I, O> {
  return {
    service: "test.v1.Test",
    name,
    path: `test.v1.Test/${name}`,
    kind,
    input,
    output,
    idempotent: extra.idempotent ?? false,
    deadlineMs: extra.deadlineMs,
    errors: extra.errors ?? [KeyNotFoundType],
  };
}

export const M = {
  echo: method("echo", "unary", TextType, TextType, { idempotent: true }),
  delay: method("delay", "unary", NumType, NumType),
  fail: method("fail", "unary", TextType, TextType),
  hang: method("hang", "unary", TextType, TextType),
  hop: method("hop", "unary", NumType, NumType),
  count: method("count", "server_stream", NumType, NumType),
  sum: method("sum", "client_stream", NumType, NumType),
  chat: method("chat", "bidi", TextType, TextType),
  idlDefault: method("idlDefault", "unary", TextType, TextType, { deadlineMs: 50 }),
  /** Answers { n } only once open({ n }) was called: replies ordered by explicit signals, not timers. */
  gate: method("gate", "unary", NumType, NumType),
  open: method("open", "unary", NumType, NumType),
};

export const TestService: ServiceDescriptor = {
  name: "test.v1.Test",
  methods: M as unknown as Record<string, MethodDescriptor>,
};

/** An unknown method (not bound on the server). */
export const Missing = method("missing", "unary", TextType, TextType);
