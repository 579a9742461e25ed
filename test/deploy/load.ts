/**
 * Load: the client side of the rolling-restart test. Several loops, each
 * putting a key of its own (non-idempotent: kv.v1.KeyValue/put) and then
 * getting it (idempotent: kv.v1.KeyValue/get; another server answers
 * KeyNotFound, which is an answer, not a failure), a few ms apart. Records
 * every outcome with the phase it started in and when it ended. Asserts
 * nothing itself.
 */
import { isRpcErrorLike } from "../../src/rpc/status.ts";
import { type KeyValueClient, Origin } from "../../examples/kv/gen/kv.ts";
import { CLIENT_PREFIX } from "./put-observer.ts";

export interface Outcome {
  key: string;
  phase: string;
  endedAt: number;
  code: string;
  message: string;
}

interface PhaseCounts {
  getsOk: number;
  getsNotFound: number;
  getsFailed: number;
  putsOk: number;
  putsFailed: number;
}

export class Load {
  phase = "warm";
  private stopping = false;
  private loopsDone: Promise<void>[] = [];
  private readonly okPuts: Outcome[] = [];
  private readonly failedPuts: Outcome[] = [];
  private readonly failedGets: Outcome[] = [];
  private readonly counts = new Map<string, PhaseCounts>();

  constructor(
    /** Names this load's keys and report lines. */
    readonly name: string,
    private readonly kv: KeyValueClient,
    private readonly loops: number,
  ) {}

  start(): void {
    for (let l = 0; l < this.loops; l++) this.loopsDone.push(this.loop(l));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loopsDone);
  }

  private count(phase: string): PhaseCounts {
    let c = this.counts.get(phase);
    if (c === undefined) this.counts.set(phase, (c = { getsOk: 0, getsNotFound: 0, getsFailed: 0, putsOk: 0, putsFailed: 0 }));
    return c;
  }

  private async loop(l: number): Promise<void> {
    const value = new Uint8Array([l]);
    for (let seq = 0; !this.stopping; seq++) {
      const key = `${CLIENT_PREFIX}${this.name}/${l}/${seq}`;
      let phase = this.phase;
      try {
        await this.kv.put({ key, value, origin: Origin.ORIGIN_CLIENT });
        this.count(phase).putsOk++;
        this.okPuts.push({ key, phase, endedAt: Date.now(), code: "OK", message: "" });
      } catch (e) {
        this.count(phase).putsFailed++;
        this.failedPuts.push(outcome(key, phase, e));
      }
      phase = this.phase;
      try {
        await this.kv.get({ key });
        this.count(phase).getsOk++;
      } catch (e) {
        if (isRpcErrorLike(e) && e.code === "kv.v1.KeyNotFound") this.count(phase).getsNotFound++;
        else {
          this.count(phase).getsFailed++;
          this.failedGets.push(outcome(key, phase, e));
        }
      }
      await Bun.sleep(8);
    }
  }

  /** Keys of the puts that succeeded so far. */
  okKeys(): string[] {
    return this.okPuts.map((o) => o.key);
  }

  report() {
    const lines = [...this.counts].map(
      ([p, c]) => `${this.name}, ${p}: gets ${c.getsOk + c.getsNotFound} ok (${c.getsNotFound} KeyNotFound), ${c.getsFailed} failed; puts ${c.putsOk} ok, ${c.putsFailed} failed`,
    );
    for (const f of this.failedPuts) lines.push(`failed put ${f.key} (${f.phase}): ${f.code}: ${f.message}`);
    let gets = 0;
    let puts = 0;
    for (const c of this.counts.values()) {
      gets += c.getsOk + c.getsNotFound + c.getsFailed;
      puts += c.putsOk + c.putsFailed;
    }
    return { lines, gets, puts, okPuts: this.okPuts, failedPuts: this.failedPuts, failedGets: this.failedGets };
  }
}

function outcome(key: string, phase: string, e: unknown): Outcome {
  const code = isRpcErrorLike(e) ? e.code : "not an RpcError";
  return { key, phase, endedAt: Date.now(), code, message: e instanceof Error ? e.message : String(e) };
}
