/**
 * typedErrorMessage: the default message of a generated error class names
 * the error, shows its fields short and bounded, and ends with the first line
 * of its IDL doc comment when there is one.
 */
import { describe, expect, test } from "bun:test";
import { typedErrorMessage } from "../../src/rpc/typed-error-message.ts";

describe("typedErrorMessage", () => {
  test("fields, then the doc line in parentheses", () => {
    expect(typedErrorMessage("KeyNotFound", "The key does not exist.", [["key", "user:42"]])).toBe('KeyNotFound: key="user:42" (The key does not exist.)');
  });

  test("without a doc comment: the name and the fields", () => {
    expect(typedErrorMessage("ItemNotFound", "", [["sku", "abc"]])).toBe('ItemNotFound: sku="abc"');
  });

  test("bigints without their n, absent optional fields left out, other values by kind", () => {
    const fields: Array<[string, unknown]> = [["current", 2n ** 63n], ["note", undefined], ["tries", 3], ["data", new Uint8Array(4)], ["tags", ["a"]]];
    expect(typedErrorMessage("VersionMismatch", "", fields)).toBe("VersionMismatch: current=9223372036854775808, tries=3, data=a Uint8Array (4 bytes), tags=an array (length 1)");
  });

  test("no fields: the name, and the doc line after a colon", () => {
    expect(typedErrorMessage("Overloaded", "The server is busy.", [])).toBe("Overloaded: The server is busy.");
    expect(typedErrorMessage("Overloaded", "", [["why", undefined]])).toBe("Overloaded");
  });

  test("a long string value stays one bounded line", () => {
    const message = typedErrorMessage("BadKey", "", [["key", "k".repeat(10_000)]]);
    expect(message).toBe(`BadKey: key="${"k".repeat(40)}"... (10000 characters)`);
  });
});
