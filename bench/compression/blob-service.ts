/**
 * A service of byte payloads for the compression bench (bench/compression/run.ts) and tests (test/rpc/compression.test.ts): `echo`
 * (unary) and `pipe` (bidi) answer each Blob with the same bytes. Blob is a
 * one-element msgpack array holding a bin, written by hand.
 */
import { DecodeError } from "../../src/codec/errors.ts";
import type { MsgReader } from "../../src/codec/reader.ts";
import type { MsgWriter } from "../../src/codec/writer.ts";
import type { MessageType, MethodDescriptor, MethodKind, ServiceBinding, ServiceDescriptor } from "../../src/rpc/descriptor.ts";

export interface Blob {
  data: Uint8Array;
}

export const BlobType: MessageType<Blob> = {
  typeName: "test.v1.Blob",
  encode(w: MsgWriter, v: Blob) {
    w.arrayHeader(1);
    w.bin(v.data);
  },
  decode(r: MsgReader): Blob {
    if (r.arrayHeader() !== 1) throw new DecodeError("expected 1 field");
    return { data: r.bin() };
  },
  validate: () => null,
};

function method(name: string, kind: MethodKind): MethodDescriptor<Blob, Blob> {
  return { service: "test.v1.Blobs", name, path: `test.v1.Blobs/${name}`, kind, input: BlobType, output: BlobType, idempotent: false, deadlineMs: undefined, errors: [] };
}

export const Blobs = { echo: method("echo", "unary"), pipe: method("pipe", "bidi") };

export const BlobService: ServiceDescriptor = { name: "test.v1.Blobs", methods: Blobs as unknown as Record<string, MethodDescriptor> };

export const blobBinding: ServiceBinding = {
  descriptor: BlobService,
  validate: false,
  impl: {
    echo: (req: Blob): Blob => req,
    async *pipe(reqs: AsyncIterable<Blob>): AsyncIterable<Blob> {
      for await (const m of reqs) yield m;
    },
  },
};

/** `n` bytes of text-like data that compresses well. */
export function compressible(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  const words = new TextEncoder().encode("the quick brown fox jumps over the lazy dog; ringrpc compression test line ");
  for (let i = 0; i < n; i++) out[i] = words[i % words.length]! ^ ((i >>> 12) & 1);
  return out;
}

/** `n` random bytes (they do not compress). */
export function random(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}
