/**
 * A test peer in another Bun Worker: its own thread, its own runtime and
 * (on uring) its own ring, so a completion for it arrives while its loop
 * sleeps and the idle wake-up path runs, which a peer on the test's own ring
 * never exercises. Owns the small request/reply protocol over postMessage:
 * the main side sends `{ id, op, arg }`, the Worker answers `{ id, ok, value }`
 * or `{ id, ok: false, error }`. The Worker's "stop" handler must close its
 * runtime (terminate() runs no native cleanup); the Worker then exits on its
 * own, and stop() fails the test when it does not within the time allowed.
 */
import { parentPort } from "node:worker_threads";

type Handler = (arg: unknown) => unknown;

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

export interface WorkerPeer {
  /** Sends op to the Worker's handler; rejects with the Worker's error message or after timeoutMs. */
  call<T>(op: string, arg?: unknown, timeoutMs?: number): Promise<T>;
  /** Calls "stop", then waits for the Worker to exit; returns what "stop" answered. Terminates and throws when it hangs. */
  stop<T>(timeoutMs?: number): Promise<T>;
}

/** Starts the Worker at `url` and calls its "start" handler with `arg`; returns the peer and start's answer. */
export async function startWorkerPeer<T>(url: URL, arg: unknown, timeoutMs = 10_000): Promise<{ peer: WorkerPeer; started: T }> {
  const worker = new Worker(url.href);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const closed = new Promise<void>((resolve) =>
    worker.addEventListener("close", () => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error("worker peer exited before answering"));
      pending.clear();
      resolve();
    }),
  );
  worker.addEventListener("error", (e: ErrorEvent) => {
    for (const p of pending.values()) p.reject(new Error(`worker peer failed: ${e.message}`));
    pending.clear();
  });
  worker.addEventListener("message", (e: MessageEvent<Reply>) => {
    const p = pending.get(e.data.id);
    if (p === undefined) return;
    pending.delete(e.data.id);
    if (e.data.ok) p.resolve(e.data.value);
    else p.reject(new Error(`worker peer: ${e.data.error}`));
  });
  const call = <R>(op: string, a?: unknown, ms = 10_000): Promise<R> => {
    if (exited) return Promise.reject(new Error(`worker peer already exited (${op})`));
    const id = nextId++;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`worker peer did not answer ${op} within ${ms} ms`));
      }, ms);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as R);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      worker.postMessage({ id, op, arg: a });
    });
  };
  const peer: WorkerPeer = {
    call,
    async stop<R>(ms = 10_000): Promise<R> {
      const value = await call<R>("stop", undefined, ms);
      const gone = await Promise.race([closed.then(() => true), Bun.sleep(ms).then(() => false)]);
      if (!gone) {
        worker.terminate();
        throw new Error(`worker peer did not exit within ${ms} ms of stop (something still holds its loop)`);
      }
      return value;
    },
  };
  try {
    return { peer, started: await call<T>("start", arg, timeoutMs) };
  } catch (e) {
    worker.terminate();
    throw e;
  }
}

/**
 * Worker side: answers the main thread's calls with `handlers` (one per op,
 * "start" and "stop" included). After "stop" answers, the Worker stops
 * listening so it can exit once its runtime is closed.
 */
export function answerParent(handlers: Record<string, Handler>): void {
  const port = parentPort;
  if (port === null) throw new Error("answerParent() must run inside a Worker");
  port.on("message", async (msg: { id: number; op: string; arg: unknown }) => {
    const handler = handlers[msg.op];
    let reply: Reply;
    try {
      if (handler === undefined) throw new Error(`no handler for ${msg.op}`);
      reply = { id: msg.id, ok: true, value: await handler(msg.arg) };
    } catch (e) {
      reply = { id: msg.id, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    }
    port.postMessage(reply);
    if (msg.op === "stop") port.removeAllListeners("message");
  });
}
