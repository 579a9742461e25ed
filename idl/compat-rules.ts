/**
 * The rule set of the compatibility checker, as data: every rule's id, its
 * category, what it reports, why (judged by the wire: what the generated
 * codecs and the protocol do, docs/ENCODING.md and docs/PROTOCOL.md) and how
 * to fix it. idl/compat.ts reports findings under these ids; the CLI's
 * `--help`, its config check and the table in docs/IDL.md are made from
 * this list. Owns the list only: no checking, no formatting.
 *
 * Categories, from strict to lenient (like buf's FILE ... WIRE):
 * - `wire`: peers built from the two versions misread or reject each other.
 * - `source`: the wire is fine, but code written against the old generated
 *   TypeScript stops compiling (a type, property or member renamed, ...).
 * Checking `source` also checks `wire`; each rule belongs to exactly one.
 * Rule ids are stable: tools and config files name them.
 */

export type CompatCategory = "wire" | "source";

/** Categories in the order a stricter one includes the earlier ones. */
export const COMPAT_CATEGORIES: readonly CompatCategory[] = ["wire", "source"];

export interface CompatRuleInfo {
  readonly id: string;
  readonly category: CompatCategory;
  /** The change it reports, one line. */
  readonly summary: string;
  /** What the wire does with it: why it breaks, or for a source rule why the wire is fine. */
  readonly wire: string;
  /** How to make the change safe, when there is a way. */
  readonly fix: string;
}

const rule = (id: string, category: CompatCategory, summary: string, wire: string, fix: string): CompatRuleInfo => ({ id, category, summary, wire, fix });

/** Every rule, wire rules first, in the order docs/IDL.md lists them. */
export const COMPAT_RULES = [
  // ---------------------------------------------------------------- wire
  rule("type-kind-changed", "wire", "a declaration changes kind (e.g. struct to union)", "each kind has its own encoding (a map by field id, an int, a one-entry map): a reader rejects the other", "declare a new type under a new name and move its users to it"),
  rule("field-id-changed", "wire", "a field keeps its name but gets another id", "the id is the field's wire identity: each side misses the field the other sends", "keep the old id; to move a field, add a new one and reserve the old id"),
  rule("field-type-changed", "wire", "the field with the same id gets a type of another wire shape (element, key and value types included)", "readers reject a value of another type", "add a new field with the new type, and reserve the old one when you remove it"),
  rule("field-made-required", "wire", "an optional field becomes required without a default", "new peers reject messages from old peers that omit it", "give it a default (`= 0`): a reader fills it in when absent"),
  rule("field-made-optional", "wire", "a required field without a default becomes optional", "old peers reject messages that omit it", "first give it a default while it is still required, deploy that everywhere, then make it optional"),
  rule("field-removed", "wire", "a field disappears without its id being reserved", "the id is free again: a later field could reuse it with another type, and old peers would misread that", "add `reserved <id>;`"),
  rule("required-field-added", "wire", "a new field is required and has no default", "old peers never send it, and new readers reject messages without it", "give it a default (`= 0`) or make it optional (`name?:`)"),
  rule("required-field-removed", "wire", "a required field without a default disappears, reserved or not", "old readers reject every message without it", "first make it optional or give it a default, deploy that everywhere, then remove it and reserve its id"),
  rule("field-default-changed", "wire", "an optional or defaulted field's default is added, removed or changed", "an absent field means the old default to old peers and the new one to new peers", "keep the old default"),
  rule("error-status-changed", "wire", "an error's `[status = ...]` changes", "each side builds the typed error with its own status, so the two report different statuses for one error", "keep the old status"),
  rule("enum-value-added", "wire", "a new value of a `[closed]` enum (adding to an open enum is `open-enum-value-added`)", "closed readers reject an enum number they do not know: old peers reject it when it is sent", "deploy every reader before any writer sends it"),
  rule("variant-added", "wire", "a new variant of a `[closed]` union (adding to an open union is `open-variant-added`)", "closed readers reject a variant id they do not know: old peers reject it when it is sent", "deploy every reader before any writer sends it"),
  rule("type-made-closed", "wire", "an open enum or union becomes `[closed]` (closed to open is safe)", "old peers may send numbers or variants the new version does not know (their own unknown values, passed on), which new closed readers reject", "keep it open"),
  rule("enum-value-removed", "wire", "a value of a `[closed]` enum disappears, reserved or not, or a value of an open enum without its number being reserved", "new closed peers reject the number when an old peer sends it; for an open enum, nothing stops the number from coming back with another meaning while old peers still send it", "keep the value until no peer sends it; then remove it and reserve its number"),
  rule("enum-value-number-changed", "wire", "an enum value keeps its name but gets another number", "the number is the wire identity: the two sides read one number as different values", "keep the old number"),
  rule("variant-removed", "wire", "a variant of a `[closed]` union disappears, reserved or not, or a variant of an open union without its id being reserved", "new closed peers reject the variant id when an old peer sends it; for an open union, nothing stops the id from coming back with another type, which old peers' variants then fail to decode as", "keep the variant until no peer sends it; then remove it and reserve its id"),
  rule("variant-id-changed", "wire", "a variant keeps its name but gets another id", "the id is the variant's wire identity: each side rejects the other's", "keep the old id"),
  rule("variant-type-changed", "wire", "the variant with the same id gets a type of another wire shape", "readers reject a value of another type", "add a new variant with the new type"),
  rule("reserved-id-reused", "wire", "a field, variant or enum value uses an id/number the old version reserved", "old peers may still send the retired field under that id, and new ones misread it", "pick an unused id"),
  rule("reservation-removed", "wire", "a reserved id or number is no longer reserved", "a later change could reuse it while old peers still send the retired field under it", "keep the `reserved` line"),
  rule("service-removed", "wire", "a service disappears (or is renamed, or its package is)", "calls name their method as `<qualified service>/<method>`: old clients get UNIMPLEMENTED", "keep the service until no client calls it"),
  rule("method-removed", "wire", "a method disappears (a rename is a removal plus an addition)", "calls name their method as `<qualified service>/<method>`: old clients get UNIMPLEMENTED", "keep the method until no client calls it"),
  rule("method-kind-changed", "wire", "unary / server_stream / client_stream / bidi changes", "the server checks a call's shape against the method's kind: the other kind gets UNIMPLEMENTED", "add a new method with the new kind"),
  rule("method-input-changed", "wire", "a method's input becomes a struct of another wire shape", "the server rejects the old request encoding", "add a new method, or change the old input struct in safe steps"),
  rule("method-output-changed", "wire", "a method's output becomes a struct of another wire shape", "old clients reject the new response encoding", "add a new method, or change the old output struct in safe steps"),
  // ---------------------------------------------------------------- source
  rule("package-renamed", "source", "a package disappears and its declarations appear in a new package (reported once)", "struct, enum and union names never travel; its services' method paths do, and are reported as `service-removed`", "keep the old package; put a new version beside it"),
  rule("type-removed", "source", "a struct, enum, union or error disappears (or is renamed)", "struct, enum and union names never travel, and each use is checked where it is; an error's name travels, but a peer that does not know it gets a plain RpcError with the same status, as when `throws` changes", "keep the declaration under its old name"),
  rule("struct-error-swapped", "source", "a struct becomes an error or back", "structs and errors are encoded alike, and the compiler keeps one used as input, output or `throws` from changing", "declare a new type under a new name"),
  rule("type-reference-changed", "source", "a field, variant, method input or output refers to another declaration of the same wire shape", "the encoding is the same, so peers agree; the generated TypeScript type changes", "keep referring to the old declaration"),
  rule("field-renamed", "source", "a field keeps its id but gets another name", "ids travel, names do not; the generated property is renamed", "keep the old name"),
  rule("field-removed-and-reserved", "source", "a field disappears and its id is reserved", "its id cannot come back with another meaning, and readers skip it; the generated property disappears", "keep the field until no code reads it"),
  rule("field-optionality-changed", "source", "a field becomes optional or required while a default covers its absence", "a reader fills in the default, so peers agree; the generated property changes between `name: T` and `name?: T | undefined`", "keep it as it was"),
  rule("defaulted-field-added", "source", "a new required field with a default", "a reader fills in the default, so peers agree; the generated interface gains a required property that code building the type must set", "make it optional (`name?: T = value`): the default still applies"),
  rule("open-enum-value-added", "source", "a new value of an open enum", "old peers keep a number they do not know and pass it on, so the wire is fine; the generated type gains a member, so code that handles every named value (a `switch` whose `default` expects only `UnknownEnum`, a `Record` over the names) stops compiling", "handle the new value in that code; to keep such code compiling as values come, let it treat unknown values alike"),
  rule("open-variant-added", "source", "a new variant of an open union", "old peers keep a variant they do not know as `{ kind: \"$unknown\" }` and pass its bytes on, so the wire is fine; the generated type gains a member, so an exhaustive `switch` on `kind` without a `default` stops compiling", "handle the new variant in that code, or give the switch a `default`"),
  rule("enum-value-removed-and-reserved", "source", "a value of an open enum disappears and its number is reserved", "new peers keep the number as an unknown value when an old peer sends it, as old peers keep a value that was added, and the number cannot come back with another meaning; the generated member disappears", "keep the value until no code uses it"),
  rule("variant-removed-and-reserved", "source", "a variant of an open union disappears and its id is reserved", "new peers keep it as an unknown variant when an old peer sends it, as old peers keep a variant that was added, and the id cannot come back with another type; the generated kind disappears", "keep the variant until no code uses it"),
  rule("enum-value-renamed", "source", "an enum value keeps its number but gets another name", "numbers travel, names do not; the generated member is renamed", "keep the old name"),
  rule("variant-renamed", "source", "a union variant keeps its id but gets another name", "ids travel, names do not; the generated `kind` is renamed", "keep the old name"),
  rule("reserved-name-reused", "source", "a field, variant or enum value uses a name the old version reserved", "names do not travel; code written for the retired member now meets a new one", "pick another name"),
  rule("reserved-name-removed", "source", "a reserved name is no longer reserved", "names do not travel; a later change could reuse the name for another meaning", "keep the `reserved` line"),
  rule("const-removed", "source", "a const disappears", "consts never travel; the generated constant disappears", "keep the const"),
  rule("const-type-changed", "source", "a const changes type", "consts never travel; the generated constant's type changes", "keep the old type"),
] as const satisfies readonly CompatRuleInfo[];

export type CompatRule = (typeof COMPAT_RULES)[number]["id"];

const byId: ReadonlyMap<string, CompatRuleInfo> = new Map(COMPAT_RULES.map((r) => [r.id, r]));

/** The rule with that id, or undefined for an unknown name. */
export function compatRule(id: string): CompatRuleInfo | undefined {
  return byId.get(id);
}

/** The rules a check at `category` applies: its own and every less strict category's. */
export function rulesIn(category: CompatCategory): CompatRuleInfo[] {
  const upTo = COMPAT_CATEGORIES.indexOf(category);
  return COMPAT_RULES.filter((r) => COMPAT_CATEGORIES.indexOf(r.category) <= upTo);
}
