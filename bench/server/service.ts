/**
 * The bench.v1.Bench implementation every ringrpc benchmark run serves
 * (bench/bench.ridl): echo, echoText, add, order and a ticks stream. Handlers
 * are synchronous where they can be, so the server answers without an await.
 */
import type { AddReply, AddRequest, BenchHandlers, EchoReply, EchoRequest, OrderReply, OrderRequest, TextReply, TextRequest, Tick, TickRequest } from "../gen/bench.ts";

export class BenchService implements BenchHandlers {
  echo(req: EchoRequest): EchoReply {
    return { data: req.data };
  }

  echoText(req: TextRequest): TextReply {
    return { text: req.text };
  }

  add(req: AddRequest): AddReply {
    return { sum: BigInt(req.a) + BigInt(req.b) };
  }

  order(req: OrderRequest): OrderReply {
    let total = 0;
    for (const item of req.items) total += item.price * item.quantity;
    return { customer: req.customer, total, count: req.items.length, items: req.items };
  }

  /**
   * Tick `seq` (0, 1, ...) carries `size` bytes each equal to `seq & 0xff`.
   * One buffer is refilled per tick: the server encodes each yielded message
   * before it asks for the next one.
   */
  *ticks(req: TickRequest): Iterable<Tick> {
    const data = new Uint8Array(req.size);
    for (let seq = 0; seq < req.count; seq++) yield { seq, data: data.fill(seq & 0xff) };
  }
}
