/**
 * What the JS load client sends for each bench.v1.Bench unary method and how
 * it checks a reply, the same checks bench/loadgen makes: echo and text come
 * back unchanged, add returns a + b, order returns the customer, the item
 * count and the total. One `MethodCall` per in-flight slot, so a slot's
 * request is built once and its reply is checked against it.
 */
import type { BenchClient, Item } from "../gen/bench.ts";

export const JS_CLIENT_METHODS = ["echo", "text", "add", "order"] as const;
export type JsClientMethod = (typeof JS_CLIENT_METHODS)[number];

/** One call: resolves when the reply came back and was checked; rejects with why it is wrong. */
export type MethodCall = (seq: number) => Promise<void>;

export class WrongReply extends Error {
  override readonly name = "WrongReply";
  readonly code = "JS_CLIENT_WRONG_REPLY";
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function orderItems(slot: number): Item[] {
  return Array.from({ length: 4 }, (_, i) => ({
    id: slot * 10 + i, name: `item-${i}`, price: 1.25 + i, quantity: i + 1, tags: ["a", "b"], attrs: { k: `v${i}` },
  }));
}

/** The call function of one in-flight slot (slot numbers differ per connection and depth). */
export function methodCall(client: BenchClient, method: JsClientMethod, size: number, slot: number): MethodCall {
  switch (method) {
    case "echo": {
      const data = Uint8Array.from({ length: size }, (_, i) => (slot + i) & 0xff);
      const req = { data };
      return async () => {
        const r = await client.echo(req);
        if (!sameBytes(r.data, data)) throw new WrongReply(`echo: ${r.data.length} bytes came back, not the ${data.length} sent`);
      };
    }
    case "text": {
      const text = `s${slot}:`.padEnd(size, "x");
      const req = { text };
      return async () => {
        const r = await client.echoText(req);
        if (r.text !== text) throw new WrongReply(`echoText: '${r.text.slice(0, 40)}' came back, not the text sent`);
      };
    }
    case "add":
      return async (seq) => {
        const a = slot;
        const b = seq & 0xffff;
        const r = await client.add({ a, b });
        if (r.sum !== BigInt(a + b)) throw new WrongReply(`add(${a}, ${b}) returned ${r.sum}`);
      };
    case "order": {
      const items = orderItems(slot);
      let total = 0;
      for (const it of items) total += it.price * it.quantity;
      const req = { customer: `c${slot}`, items };
      return async () => {
        const r = await client.order(req);
        if (r.customer !== req.customer || r.count !== items.length || r.total !== total || r.items.length !== items.length) {
          throw new WrongReply(`order: customer '${r.customer}', count ${r.count}, total ${r.total}; expected '${req.customer}', ${items.length}, ${total}`);
        }
      };
    }
  }
}
