/**
 * Open enums and unions over a real call (docs/ENCODING.md, sections 3 and
 * 4), on both drivers: an old client, generated from version 1 of a schema,
 * calls a server generated from version 2, which added an enum value and a
 * union variant. The old client keeps what it does not know (a number, a
 * `{ kind: "$unknown", id, raw }` variant), sends it back unchanged in a
 * request the new server decodes to the original value, and still rejects a
 * new value of a [closed] enum. Both versions are compiled and generated at
 * test time with the real front end and generator.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { generate } from "../../codegen/index.ts";
import { compile } from "../../idl/index.ts";
import type { CallInvoker, ServiceBinding } from "../../src/rpc/descriptor.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { withServer } from "./helpers/harness.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

const V1 = `package evolve.v1;
enum Mood { MOOD_CALM = 0; MOOD_HAPPY = 1; }
enum Level [closed] { LEVEL_LOW = 0; LEVEL_HIGH = 1; }
union Note { 1: text: string; 2: count: u32; }
struct Card { 1: mood: Mood; 2: note: Note; 3: level: Level; 4: notes: list<Note>; }
struct Which { 1: n: u32; }
service Cards {
  get(Which) -> Card;
  put(Card) -> Card;
}
`;
/** Version 2: MOOD_ANGRY and the link variant are new (open: safe); LEVEL_MAX is new in a closed enum. */
const V2 = V1.replace("MOOD_HAPPY = 1;", "MOOD_HAPPY = 1; MOOD_ANGRY = 2;")
  .replace("2: count: u32;", "2: count: u32; 3: link: Link;")
  .replace("LEVEL_HIGH = 1;", "LEVEL_HIGH = 1; LEVEL_MAX = 2;")
  .replace("struct Which", "struct Link { 1: url: string; 2: tags: list<string>; }\nstruct Which");

type Note = { kind: string; value?: unknown; id?: number; raw?: Uint8Array };
interface Card {
  mood: number;
  note: Note;
  level: number;
  notes: Note[];
}
interface CardsClient {
  get(req: { n: number }): Promise<Card>;
  put(req: Card): Promise<Card>;
}
interface CardsModule {
  bindCards(impl: object): ServiceBinding;
  CardsClient: new (invoker: CallInvoker) => CardsClient;
}

const root = resolve(import.meta.dir, "../..");
let dir = "";
let v1: CardsModule;
let v2: CardsModule;

async function generated(version: string, text: string): Promise<CardsModule> {
  const { model, diagnostics } = compile(["evolve.ridl"], { readFile: (p) => (p === "evolve.ridl" ? text : undefined) });
  if (model === null) throw new Error(`${version} does not compile: ${JSON.stringify(diagnostics)}`);
  const out = join(dir, version);
  mkdirSync(out);
  for (const f of generate(model, { version: "0.0.0-test", runtime: join(root, "src") })) writeFileSync(join(out, f.path), f.content);
  return (await import(join(out, "evolve.ts"))) as CardsModule;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ringrpc-open-enums-"));
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  v1 = await generated("v1", V1);
  v2 = await generated("v2", V2);
});

afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

/** What the version 2 server sends: a new mood, a new variant (alone and in a list), and, for n = 1, a new closed level. */
function fresh(n: number): Card {
  const link = { kind: "link", value: { url: "https://example.com/a", tags: ["x", "y"] } };
  return { mood: 2, note: link, level: n === 1 ? 2 : 1, notes: [{ kind: "text", value: "t" }, link] };
}

describeDrivers("open enums and unions", (d) => {
  test("an old client keeps a new value and variant, sends them back unchanged, and rejects a new value of a closed enum", async () => {
    const received: Card[] = [];
    const binding = v2.bindCards({
      get: (req: { n: number }) => fresh(req.n),
      put: (card: Card) => {
        received.push(card);
        return card;
      },
    });
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const old = new v1.CardsClient(h.channel());
      const seen = await old.get({ n: 0 });
      expect(seen.mood).toBe(2);
      expect(seen.level).toBe(1);
      expect(seen.note.kind).toBe("$unknown");
      expect(seen.note.id).toBe(3);
      // {1: "https://example.com/a", 2: ["x", "y"]}: the variant's value as the new server wrote it.
      expect(Buffer.from(seen.note.raw!).toString("hex")).toBe(`8201b5${Buffer.from("https://example.com/a").toString("hex")}0292a178a179`);
      expect(seen.notes.map((n) => n.kind)).toEqual(["text", "$unknown"]);

      // The old client passes on what it does not know; the new server reads the original value.
      const echoed = await old.put(seen);
      expect(received).toEqual([fresh(0)]);
      expect(echoed).toEqual(seen);

      // Level is [closed]: the old client refuses the reply that carries LEVEL_MAX.
      const refused = (await old.get({ n: 1 }).catch((e: unknown) => e)) as Error;
      expect(refused).toBeInstanceOf(Error);
      expect(refused.message).toContain("level: 2 is not a value of enum evolve.v1.Level");
    }, [binding]);
  });
});
