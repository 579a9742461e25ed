/**
 * MemoryBudget's decisions with stand-in members: the sum follows what each
 * member reports, a member over its share is paused past 0.8x the budget
 * (one under its share is not), the top consumer is evicted past the budget,
 * paused members resume below 0.6x, and a removed member's late reports
 * count for nothing.
 */
import { expect, test } from "bun:test";
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

test("past 0.8x the budget: the member over its share of that is paused, one under it is not; below 0.6x both read again", () => {
  const { b, m } = setUp(1000, 4); // soft limit 800, share 200
  report(b, m[0]!, 100);
  report(b, m[1]!, 750); // pushes the sum to 850
  expect(b.over).toBe(true);
  expect(m[1]!.budgetPaused).toBe(true);
  expect(m[0]!.budgetPaused).toBe(false);
  report(b, m[0]!, 120); // still over: m0 is under its share, stays read
  expect(m[0]!.budgetPaused).toBe(false);
  report(b, m[1]!, 450); // 570 < 600
  expect(b.over).toBe(false);
  expect(m[1]!.budgetPaused).toBe(false);
  expect(m[1]!.readingChanges).toBe(2);
  expect(b.stats()).toMatchObject({ pauses: 1, evictions: 0 });
});

test("past the budget the top consumer is evicted and its bytes released; its late reports count for nothing", () => {
  const { b, m } = setUp(1000, 3);
  report(b, m[0]!, 400);
  report(b, m[1]!, 500);
  report(b, m[2]!, 400); // 1300 > 1000: evict m1 (500)
  expect(m[1]!.evicted).toContain("held 500 bytes");
  expect(m[0]!.evicted).toBeNull();
  expect(b.stats()).toMatchObject({ usedBytes: 800, evictions: 1 });
  report(b, m[1]!, 900);
  expect(b.stats().usedBytes).toBe(800);
  b.remove(m[0]!);
  expect(b.stats().usedBytes).toBe(400);
});

test("the default budget is within 32-256 MiB; a budget must be positive", () => {
  const d = defaultMemoryBudgetBytes();
  expect(d).toBeGreaterThanOrEqual(32 << 20);
  expect(d).toBeLessThanOrEqual(256 << 20);
  expect(() => new MemoryBudget(0)).toThrow(RangeError);
});
