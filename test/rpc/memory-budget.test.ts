/**
 * MemoryBudget's decisions with stand-in members: the sum follows what each
 * member reports; connections may hold 0.75x the budget (0.55x where reads
 * allocate); past 0.8x of that a member over its share is paused (one under
 * its share is not), past all of it the top consumer is evicted, paused
 * members resume below 0.6x of it, a few at a time, a removed member's late
 * reports count for nothing, and read garbage is collected only while the
 * budget is loaded.
 */
import { expect, test } from "bun:test";
import { until } from "./helpers/harness.ts";
import { type BudgetMember, defaultMemoryBudgetBytes, MemoryBudget } from "../../src/rpc/memory-budget.ts";

class Member implements BudgetMember {
  budgetCharged = 0;
  budgetPaused = false;
  held = 0;
  readingChanges = 0;
  evicted: string | null = null;
  constructor(readonly name: string) {}
  heldBytes(): number {
    return this.held;
  }
  updateReading(): void {
    this.readingChanges++;
  }
  evictForBudget(message: string): void {
    this.evicted = message;
  }
}

function setUp(limit: number, count: number): { b: MemoryBudget; m: Member[] } {
  const b = new MemoryBudget(limit);
  const m = Array.from({ length: count }, (_, i) => new Member(`m${i}`));
  for (const x of m) b.add(x);
  return { b, m };
}

const report = (b: MemoryBudget, m: Member, held: number) => {
  m.held = held;
  b.account(m);
};

test("the sum follows each member's reports, up and down", () => {
  const { b, m } = setUp(1000, 2);
  report(b, m[0]!, 300);
  report(b, m[1]!, 200);
  report(b, m[0]!, 100);
  expect(b.stats()).toMatchObject({ usedBytes: 300, peakBytes: 500, pauses: 0, evictions: 0 });
  expect(b.over).toBe(false);
});

test("past 0.8x of the hold limit (0.75x the budget): the member over its share is paused, one under it is not; below 0.6x both read again", () => {
  const { b, m } = setUp(1000, 4); // hold 750, soft mark 600, share 150, resume mark 450
  report(b, m[0]!, 100);
  report(b, m[1]!, 550); // pushes the sum to 650
  expect(b.over).toBe(true);
  expect(m[1]!.budgetPaused).toBe(true);
  expect(m[0]!.budgetPaused).toBe(false);
  report(b, m[0]!, 120); // still over: m0 is under its share, stays read
  expect(m[0]!.budgetPaused).toBe(false);
  report(b, m[1]!, 300); // 420 < 450
  expect(b.over).toBe(false);
  expect(m[1]!.budgetPaused).toBe(false);
  expect(m[1]!.readingChanges).toBe(2);
  expect(b.stats()).toMatchObject({ pauses: 1, evictions: 0 });
});

test("past the hold limit the top consumer is evicted and its bytes released; its late reports count for nothing", () => {
  const { b, m } = setUp(1000, 3); // hold 750
  report(b, m[0]!, 300);
  report(b, m[1]!, 350);
  report(b, m[2]!, 300); // 950 > 750: evict m1 (350)
  expect(m[1]!.evicted).toContain("held 350 bytes");
  expect(m[0]!.evicted).toBeNull();
  expect(b.stats()).toMatchObject({ usedBytes: 600, evictions: 1 });
  report(b, m[1]!, 900);
  expect(b.stats().usedBytes).toBe(600);
  b.remove(m[0]!);
  expect(b.stats().usedBytes).toBe(300);
});

test("where reads allocate, connections may hold 0.55x the budget", () => {
  const b = new MemoryBudget(1000, { readsAllocate: true }); // hold 550
  const [x, y] = [new Member("x"), new Member("y")];
  b.add(x);
  b.add(y);
  report(b, x, 300);
  report(b, y, 200);
  expect(b.stats().evictions).toBe(0);
  report(b, y, 300); // 600 > 550: evict one of the two (300 each)
  expect(b.stats()).toMatchObject({ usedBytes: 300, evictions: 1 });
  expect(b.readsAllocate).toBe(true);
});

test("the default budget is within 32-256 MiB; a budget must be positive", () => {
  const d = defaultMemoryBudgetBytes();
  expect(d).toBeGreaterThanOrEqual(32 << 20);
  expect(d).toBeLessThanOrEqual(256 << 20);
  expect(() => new MemoryBudget(0)).toThrow(RangeError);
});

test("paused members are read again a few at a time: one 512 KiB read burst each fits below the soft mark, the rest shortly after", async () => {
  const MiB = 1 << 20;
  const { b, m } = setUp(10 * MiB, 10); // hold 7.5 MiB, soft mark 6, share 0.6, resume mark 4.5
  for (const x of m) report(b, x, 0.7 * MiB); // 7 MiB: those reporting past 6 MiB are paused
  for (const x of m) report(b, x, 0.71 * MiB); // 7.1 MiB: now every one of them (each over its share)
  expect(m.every((x) => x.budgetPaused)).toBe(true);
  for (const x of m.slice(0, 6)) report(b, x, 0.3 * MiB); // 6 x 0.3 + 4 x 0.71 = 4.64 MiB: not yet below 4.5
  expect(m.filter((x) => !x.budgetPaused).length).toBe(0);
  report(b, m[0]!, 0); // 4.34 MiB: the room below 6 MiB, 1.66 MiB, is 3 bursts of 512 KiB
  expect(m.filter((x) => !x.budgetPaused).length).toBe(3);
  expect(b.over).toBe(true);
  // The rest follow, a few every 5 ms, while nobody refills the room.
  expect(await until(() => m.every((x) => !x.budgetPaused), 1000)).toBe(true);
  expect(b.over).toBe(false);
});

test("read garbage is collected only while members hold a tenth of the budget, once it passes a tenth", () => {
  const MiB = 1 << 20;
  const { b, m } = setUp(10 * MiB, 2);
  for (let i = 0; i < 100; i++) b.readAllocated(512 * 1024); // 50 MiB read with nothing held: ordinary traffic
  expect(b.stats().garbageCollections).toBe(0);
  report(b, m[0]!, 2 * MiB); // held 2 MiB: the garbage so far is collected at the next read
  b.readAllocated(512 * 1024);
  expect(b.stats().garbageCollections).toBe(1);
  b.readAllocated(512 * 1024); // 0.5 MiB since: below a tenth
  expect(b.stats().garbageCollections).toBe(1);
  b.readAllocated(768 * 1024); // 1.25 MiB > 1 MiB
  expect(b.stats().garbageCollections).toBe(2);
});
