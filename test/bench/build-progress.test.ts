/**
 * The bench's build steps (bench/echo/contenders.ts runBuild: the load
 * generator, the Tokio baseline, ...) say when they start and how long they
 * took, so a first run that compiles for a minute is not silent; a failing
 * step says so too and throws with the command's output.
 */
import { expect, test } from "bun:test";
import { BuildError, runBuild } from "../../bench/echo/contenders.ts";

test("a build step prints a line before it runs and its time after", () => {
  const lines: string[] = [];
  runBuild("a quick step", ["sh", "-c", "sleep 0.2"], "/", { note: "takes a moment", log: (l) => lines.push(l) });
  expect(lines.length).toBe(2);
  expect(lines[0]).toBe("build: a quick step (takes a moment) ...");
  expect(lines[1]).toMatch(/^build: a quick step: ok, \d+\.\d s$/);
  // It waited for the command: sleep 0.2 cannot finish in under 0.2 s.
  expect(Number(/ok, (\d+\.\d) s/.exec(lines[1]!)![1])).toBeGreaterThanOrEqual(0.2);
});

test("a failing build step says it failed and throws with the command's output", () => {
  const lines: string[] = [];
  let thrown: unknown = null;
  try {
    runBuild("a broken step", ["sh", "-c", "echo cc: no such file >&2; exit 3"], "/", { log: (l) => lines.push(l) });
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(BuildError);
  expect((thrown as BuildError).message).toContain("exit 3");
  expect((thrown as BuildError).message).toContain("cc: no such file");
  expect(lines[0]).toBe("build: a broken step ...");
  expect(lines[1]).toMatch(/^build: a broken step: failed after \d+\.\d s$/);
});
