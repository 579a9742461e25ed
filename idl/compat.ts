/**
 * Compatibility checker: compares an old and a new Model and lists every
 * change that breaks peers built from the other version (category `wire`)
 * or code written against the old generated TypeScript (category `source`),
 * under the rules of idl/compat-rules.ts (docs/IDL.md, "Compatibility
 * rules"). Declarations are matched by qualified name (through a package
 * rename, by name), fields and variants by id, enum values by name and
 * number, methods by name. A declaration swapped for another one is judged
 * by its wire shape: same shape is a source change only.
 * Reports all findings of every category (callers filter); never throws;
 * output is in the new model's source order, removals last.
 */
import { compatRule, type CompatCategory, type CompatRule } from "./compat-rules.ts";
import { defaultExample, defaultKey, firstUncovered, inRanges, packagePos, packageRenames, rangeText, typeRefText, valueText } from "./compat-text.ts";
import type { Decl, EnumDecl, Field, Method, Model, Pos, Reserved, ServiceDecl, TypeRef, UnionDecl } from "./model.ts";
import { formatLocation, locate, type Location } from "./source.ts";

export { typeRefText } from "./compat-text.ts";

export interface Incompatibility {
  readonly rule: CompatRule;
  readonly category: CompatCategory;
  /**
   * What it concerns, for config `ignore` entries: a declaration's qualified
   * name (the new one; the old one when it was removed), `Service/method`
   * for a method, the old package name for a package rename.
   */
  readonly decl: string;
  readonly message: string;
  /** How to fix this finding (e.g. `add "reserved 2;" to struct kv.v1.Entry`), when there is a way. */
  readonly fix: string | undefined;
  /** Where the thing was in the old version (undefined for something new). */
  readonly old: Location | undefined;
  /** Where it is in the new version (undefined for something removed: then the enclosing declaration). */
  readonly new: Location | undefined;
}

/** `new.ridl:3:5: wire-breaking [field-removed]: message (was at old.ridl:3:5)`, then `  fix: ...` when there is one. */
export function formatIncompatibility(inc: Incompatibility): string {
  const where = inc.new ?? inc.old;
  const head = where === undefined ? "" : `${formatLocation(where)}: `;
  const was = inc.old !== undefined && inc.new !== undefined ? ` (was at ${formatLocation(inc.old)})` : "";
  const fix = inc.fix === undefined ? "" : `\n  fix: ${inc.fix}`;
  return `${head}${inc.category}-breaking [${inc.rule}]: ${inc.message}${was}${fix}`;
}

type Sink = (rule: CompatRule, decl: string, message: string, fix: string | undefined, oldPos: Pos | undefined, newPos: Pos | undefined) => void;

/** How a type in the old version relates to one in the new: the same, another declaration of the same wire shape, or why not. */
type Shape = { same: true } | { same: false; renamed: true } | { same: false; renamed: false; why: string };
const SAME: Shape = { same: true };
const RENAMED: Shape = { same: false, renamed: true };
const differs = (why: string): Shape => ({ same: false, renamed: false, why });
const isRenamed = (s: Shape): boolean => !s.same && s.renamed;

/** Rules about reservations guard later changes; they do not make two shapes differ today. */
const RESERVATION_RULES: ReadonlySet<CompatRule> = new Set(["reservation-removed", "reserved-id-reused"]);

export function checkCompat(oldModel: Model, newModel: Model): Incompatibility[] {
  return new CompatChecker(oldModel, newModel).run();
}

class CompatChecker {
  private readonly out: Incompatibility[] = [];
  private readonly renames: Map<string, string>;
  private readonly shapes = new Map<string, Shape>();

  constructor(private readonly oldModel: Model, private readonly newModel: Model) {
    this.renames = packageRenames(oldModel, newModel);
  }

  private readonly report: Sink = (rule, decl, message, fix, oldPos, newPos) => {
    const category = compatRule(rule)?.category ?? "wire";
    this.out.push({ rule, category, decl, message, fix, old: oldPos && locate(this.oldModel, oldPos), new: newPos && locate(this.newModel, newPos) });
  };

  /** An old qualified name as the new version spells it (through a package rename). */
  private mapName(q: string): string {
    for (const [from, to] of this.renames) if (q.startsWith(`${from}.`)) return `${to}${q.slice(from.length)}`;
    return q;
  }

  /** The old declaration a new one continues, if any. */
  private oldOf(n: Decl): Decl | undefined {
    const same = this.oldModel.byName.get(n.qualifiedName);
    if (same !== undefined) return same;
    if (n.kind === "service") return undefined; // a service's name is its wire path: a moved service is a removed one
    for (const [from, to] of this.renames) if (n.package === to) return this.oldModel.byName.get(`${from}.${n.name}`);
    return undefined;
  }

  run(): Incompatibility[] {
    for (const [from, to] of this.renames) {
      this.report("package-renamed", from, `package ${from} was renamed to ${to}`, `keep package ${from}; put ${to} beside it`, packagePos(this.oldModel, from), packagePos(this.newModel, to));
    }
    const paired = new Set<string>();
    for (const n of this.newModel.decls) {
      const o = this.oldOf(n);
      if (o === undefined) continue;
      paired.add(o.qualifiedName);
      this.pair(o, n, this.report);
    }
    for (const o of this.oldModel.decls) if (!paired.has(o.qualifiedName)) this.removed(o);
    return this.out;
  }

  private removed(o: Decl): void {
    const q = o.qualifiedName;
    const moved = this.renames.get(o.package);
    switch (o.kind) {
      case "service": {
        const why = moved === undefined ? "" : ` (its package was renamed to ${moved})`;
        this.report("service-removed", q, `service ${q} was removed${why}: old clients calling it get UNIMPLEMENTED`, `keep service ${q} until no client calls it`, o.pos, undefined);
        return;
      }
      case "const":
        this.report("const-removed", q, `const ${q} was removed`, `keep const ${o.name}`, o.pos, undefined);
        return;
      default: {
        const twin = this.newModel.decls.find((n) => n.kind === o.kind && this.oldOf(n) === undefined && isRenamed(this.shapeOf(q, n.qualifiedName)));
        const hint = twin === undefined ? "" : ` (renamed to ${twin.qualifiedName}? it has the same wire shape)`;
        this.report("type-removed", q, `${o.kind} ${q} was removed${hint}`, `keep ${o.kind} ${o.name} under its old name`, o.pos, undefined);
      }
    }
  }

  /** How old declaration `oldQ` relates to new declaration `newQ` on the wire (cached; cycles assume "renamed"). */
  private shapeOf(oldQ: string, newQ: string): Shape {
    if (this.mapName(oldQ) === newQ) return SAME;
    const key = `${oldQ}\n${newQ}`;
    const known = this.shapes.get(key);
    if (known !== undefined) return known;
    this.shapes.set(key, RENAMED);
    const o = this.oldModel.byName.get(oldQ);
    const n = this.newModel.byName.get(newQ);
    let shape: Shape = RENAMED;
    if (o === undefined || n === undefined) shape = differs(`${newQ} is unknown`);
    else {
      const fieldsLike = (k: string): boolean => k === "struct" || k === "error";
      if (o.kind !== n.kind && !(fieldsLike(o.kind) && fieldsLike(n.kind))) shape = differs(`${oldQ} is a${o.kind === "enum" || o.kind === "error" || o.kind === "union" ? "n" : ""} ${o.kind} and ${newQ} a${n.kind === "enum" || n.kind === "error" || n.kind === "union" ? "n" : ""} ${n.kind}`);
      else {
        let why: string | undefined;
        this.pair(o, n, (rule, _decl, message) => {
          if (why === undefined && compatRule(rule)?.category === "wire" && !RESERVATION_RULES.has(rule)) why = message;
        });
        if (why !== undefined) shape = differs(why);
      }
    }
    this.shapes.set(key, shape);
    return shape;
  }

  private typeShape(ot: TypeRef, nt: TypeRef): Shape {
    if (ot.kind === "scalar" && nt.kind === "scalar") return ot.name === nt.name ? SAME : differs(`${ot.name} is not ${nt.name}`);
    if (ot.kind === "list" && nt.kind === "list") return this.typeShape(ot.elem, nt.elem);
    if (ot.kind === "map" && nt.kind === "map") {
      const k = this.typeShape(ot.key, nt.key);
      return k.same ? this.typeShape(ot.value, nt.value) : k;
    }
    if (ot.kind === "ref" && nt.kind === "ref") return this.shapeOf(ot.qualifiedName, nt.qualifiedName);
    return differs(`${typeRefText(ot)} is not ${typeRefText(nt)}`);
  }

  /** Reports a type change at a field, variant or method: wire rule when the shape differs, source rule when only the name does. */
  private typeChange(sink: Sink, rule: CompatRule, decl: string, what: string, ot: TypeRef, nt: TypeRef, fix: string, oldPos: Pos, newPos: Pos): void {
    const shape = this.typeShape(ot, nt);
    if (shape.same) return;
    const change = `${what} changed type from ${typeRefText(ot)} to ${typeRefText(nt)}`;
    if (shape.renamed) sink("type-reference-changed", decl, `${change}, which has the same wire shape`, `keep ${typeRefText(ot).replace(/^.*\./, "")}`, oldPos, newPos);
    else sink(rule, decl, ot.kind === "scalar" && nt.kind === "scalar" ? change : `${change}: ${shape.why}`, fix, oldPos, newPos);
  }

  private pair(o: Decl, n: Decl, sink: Sink): void {
    const q = n.qualifiedName;
    if (o.kind !== n.kind) {
      if ((o.kind === "struct" || o.kind === "error") && (n.kind === "struct" || n.kind === "error")) {
        sink("struct-error-swapped", q, `${q} changed from ${o.kind} to ${n.kind} (the same encoding, another generated type)`, `declare a new ${n.kind} under a new name`, o.pos, n.pos);
        this.checkFields(sink, q, `${n.kind} ${q}`, o, n);
      } else sink("type-kind-changed", q, `${q} changed from ${o.kind} to ${n.kind}`, `declare a new ${n.kind} under a new name and move its users to it`, o.pos, n.pos);
      return;
    }
    if ((o.kind === "struct" || o.kind === "error") && (n.kind === "struct" || n.kind === "error")) this.checkFields(sink, q, `${n.kind} ${q}`, o, n);
    if (o.kind === "error" && n.kind === "error" && o.status !== n.status)
      sink("error-status-changed", q, `error ${q} changed status from ${o.status} to ${n.status}: old peers rebuild it with ${o.status}, so the two sides report different statuses for one error`, `keep \`[status = ${o.status}]\``, o.pos, n.pos);
    else if (o.kind === "enum" && n.kind === "enum") this.checkEnum(sink, o, n);
    else if (o.kind === "union" && n.kind === "union") this.checkUnion(sink, o, n);
    else if (o.kind === "service" && n.kind === "service") this.checkService(sink, o, n);
    else if (o.kind === "const" && n.kind === "const" && this.mapName(typeRefText(o.type)) !== typeRefText(n.type))
      sink("const-type-changed", q, `const ${q} changed type from ${typeRefText(o.type)} to ${typeRefText(n.type)}`, `keep type ${typeRefText(o.type)}`, o.pos, n.pos);
  }

  private checkReserved(sink: Sink, decl: string, what: string, o: Reserved, n: Reserved, used: ReadonlySet<number>, usedName: (name: string) => boolean, oldPos: Pos, newPos: Pos): void {
    for (const r of o.ids) {
      const id = firstUncovered(r, n.ids, used);
      if (id !== null) sink("reservation-removed", decl, `${what}: reserved id ${id} is no longer reserved (a later change could reuse it)`, `keep \`reserved ${rangeText(r)};\``, oldPos, newPos);
    }
    for (const name of o.names) {
      if (!n.names.includes(name) && !usedName(name)) sink("reserved-name-removed", decl, `${what}: reserved name "${name}" is no longer reserved`, `keep \`reserved ${JSON.stringify(name)};\``, oldPos, newPos);
    }
  }

  private checkFields(sink: Sink, decl: string, what: string, o: { fields: readonly Field[]; reserved: Reserved; pos: Pos }, n: { fields: readonly Field[]; reserved: Reserved; pos: Pos }): void {
    const newById = new Map(n.fields.map((f) => [f.id, f]));
    const oldById = new Map(o.fields.map((f) => [f.id, f]));
    const withDefault = (f: Field, optional: boolean): string => {
      const d = defaultExample(f.type, this.newModel);
      return d === undefined ? "" : `\`${f.id}: ${f.name}${optional ? "?" : ""}: ${typeRefText(f.type)} = ${d};\``;
    };
    for (const of of o.fields) {
      const nf = newById.get(of.id);
      if (nf === undefined) {
        const moved = n.fields.find((f) => f.name === of.name);
        const required = !of.optional && of.default === undefined;
        if (moved !== undefined) {
          sink("field-id-changed", decl, `${what}: field "${of.name}" changed id from ${of.id} to ${moved.id}`, `keep id ${of.id}`, of.pos, moved.pos);
        } else if (!inRanges(n.reserved.ids, of.id)) {
          const fix = `add \`reserved ${of.id};\` to ${what} (and \`reserved ${JSON.stringify(of.name)};\` to keep the name from coming back)`;
          sink("field-removed", decl, `${what}: field ${of.id} "${of.name}" was removed without reserving its id`, fix, of.pos, n.pos);
        } else if (!required) {
          sink("field-removed-and-reserved", decl, `${what}: field ${of.id} "${of.name}" was removed (its id is reserved, so the wire is fine; the generated property is gone)`, `keep field "${of.name}" until no code reads it`, of.pos, n.pos);
        }
        if (moved === undefined && required) {
          const d = withDefault(of, false);
          sink("required-field-removed", decl, `${what}: field ${of.id} "${of.name}" was required: old peers reject every message without it`,
            `first make it optional (\`${of.id}: ${of.name}?: ${typeRefText(of.type)};\`)${d === "" ? "" : ` or give it a default (${d})`}, deploy that everywhere, then remove it and add \`reserved ${of.id};\``, of.pos, n.pos);
        }
        continue;
      }
      const fieldWhat = `${what}: field ${of.id} "${nf.name}"`;
      if (of.name !== nf.name) sink("field-renamed", decl, `${what}: field ${of.id} was renamed from "${of.name}" to "${nf.name}"`, `keep the name "${of.name}"`, of.pos, nf.pos);
      this.typeChange(sink, "field-type-changed", decl, fieldWhat, of.type, nf.type, `add a new field with type ${typeRefText(nf.type)} and keep field ${of.id} as ${typeRefText(of.type)}`, of.pos, nf.pos);
      if (of.optional !== nf.optional) {
        // A default covers absence: a reader with one fills it in instead of rejecting the message.
        if (of.optional && nf.default === undefined) {
          const d = withDefault(nf, false);
          sink("field-made-required", decl, `${fieldWhat} was optional and is now required: new peers reject messages from old ones without it`, d === "" ? `keep it optional` : `give it a default (${d}) or keep it optional`, of.pos, nf.pos);
        } else if (!of.optional && of.default === undefined) {
          sink("field-made-optional", decl, `${fieldWhat} was required and is now optional: old peers reject messages without it`, `keep it required; to make it optional, first give it a default, deploy that everywhere, then make it optional`, of.pos, nf.pos);
        } else {
          const now = nf.optional ? "optional" : "required";
          sink("field-optionality-changed", decl, `${fieldWhat} is now ${now} (a default covers absence, so the wire is fine; the generated property changes to "${nf.name}${nf.optional ? "?" : ""}")`, `keep it ${nf.optional ? "required" : "optional"}`, of.pos, nf.pos);
        }
      }
      const od = valueText(of.default);
      const nd = valueText(nf.default);
      // An enum default travels as its number: a renamed value is the same default.
      if (defaultKey(of.default) !== defaultKey(nf.default) && (of.optional || nf.optional || (of.default !== undefined && nf.default !== undefined)))
        sink("field-default-changed", decl, `${fieldWhat} default changed from ${od} to ${nd}: an absent field means ${od} to old peers and ${nd} to new ones`, of.default === undefined ? "remove the default" : `keep the default \`= ${od}\``, of.pos, nf.pos);
    }
    for (const nf of n.fields) {
      if (oldById.has(nf.id)) {
        if (o.reserved.names.includes(nf.name) && oldById.get(nf.id)?.name !== nf.name) {
          sink("reserved-name-reused", decl, `${what}: field name "${nf.name}" was reserved`, `pick another name`, undefined, nf.pos);
        }
        continue;
      }
      if (inRanges(o.reserved.ids, nf.id)) sink("reserved-id-reused", decl, `${what}: field id ${nf.id} ("${nf.name}") was reserved`, `pick an unused id`, o.pos, nf.pos);
      else if (o.reserved.names.includes(nf.name)) sink("reserved-name-reused", decl, `${what}: field name "${nf.name}" was reserved`, `pick another name`, o.pos, nf.pos);
      else if (o.fields.some((f) => f.name === nf.name) || nf.optional) continue;
      else if (nf.default === undefined) {
        const d = withDefault(nf, false);
        sink("required-field-added", decl, `${what}: new field ${nf.id} "${nf.name}" is required: old peers never send it`, `${d === "" ? "" : `give it a default (${d}) or `}make it optional (\`${nf.id}: ${nf.name}?: ${typeRefText(nf.type)};\`)`, undefined, nf.pos);
      } else {
        sink("defaulted-field-added", decl, `${what}: new field ${nf.id} "${nf.name}" has a default, so the wire is fine, but the generated type gains a required property "${nf.name}"`, `make it optional (\`${nf.id}: ${nf.name}?: ${typeRefText(nf.type)} = ${valueText(nf.default)};\`): the default still applies`, undefined, nf.pos);
      }
    }
    this.checkReserved(sink, decl, what, o.reserved, n.reserved, new Set(newById.keys()), (name) => n.fields.some((f) => f.name === name), o.pos, n.pos);
  }

  /**
   * Open and closed (docs/ENCODING.md, sections 3 and 4): the bytes are the
   * same, only what a reader does with a number or variant it does not know
   * differs. Closed -> open is safe: new readers accept everything old ones
   * did, and new writers send old readers only members (an addition is
   * judged on its own, against the old closed readers). Open -> closed
   * breaks: old writers may send what they do not know (an unknown value
   * they decoded and pass on, any i32 for an enum), which new readers reject.
   */
  private checkClosed(sink: Sink, decl: string, what: string, o: EnumDecl | UnionDecl, n: EnumDecl | UnionDecl): void {
    if (!o.closed && n.closed) sink("type-made-closed", decl, `${what} became [closed]: new peers reject the unknown values old peers may send or pass on`, "keep it open", o.pos, n.pos);
  }

  private checkEnum(sink: Sink, o: EnumDecl, n: EnumDecl): void {
    const decl = n.qualifiedName;
    const what = `enum ${decl}`;
    this.checkClosed(sink, decl, what, o, n);
    for (const ov of o.values) {
      const byName = n.values.find((v) => v.name === ov.name);
      if (byName !== undefined) {
        if (byName.value !== ov.value) sink("enum-value-number-changed", decl, `${what}: value ${ov.name} changed number from ${ov.value} to ${byName.value}`, `keep ${ov.name} = ${ov.value}`, ov.pos, byName.pos);
        continue;
      }
      const byNumber = n.values.find((v) => v.value === ov.value);
      if (byNumber !== undefined) {
        sink("enum-value-renamed", decl, `${what}: value ${ov.value} was renamed from ${ov.name} to ${byNumber.name}`, `keep the name ${ov.name}`, ov.pos, byNumber.pos);
        continue;
      }
      // Closed readers reject an enum number they do not know (docs/ENCODING.md), reserved or not. Open ones keep it as a
      // number, as old readers keep a value that was added: safe while the number is reserved and cannot come back.
      const reserved = inRanges(n.reserved.ids, ov.value);
      if (reserved && !n.closed) {
        sink("enum-value-removed-and-reserved", decl, `${what}: value ${ov.name} = ${ov.value} was removed (its number is reserved and new peers keep it as an unknown number, so the wire is fine; the generated member is gone)`, `keep ${ov.name} = ${ov.value} until no code uses it`, ov.pos, n.pos);
        continue;
      }
      const reserve = reserved ? "" : ` and add \`reserved ${ov.value};\``;
      const seen = n.closed ? "new peers reject it when an old peer sends it" : "its number is not reserved, so it may come back with another meaning while old peers still send it";
      sink("enum-value-removed", decl, `${what}: value ${ov.name} = ${ov.value} was removed: ${seen}`, `keep ${ov.name} = ${ov.value} until no peer sends it; then remove it${reserve}`, ov.pos, n.pos);
    }
    for (const nv of n.values) {
      if (o.values.some((v) => v.value === nv.value)) continue;
      if (inRanges(o.reserved.ids, nv.value)) sink("reserved-id-reused", decl, `${what}: value number ${nv.value} (${nv.name}) was reserved`, `pick an unused number`, o.pos, nv.pos);
      else if (o.reserved.names.includes(nv.name)) sink("reserved-name-reused", decl, `${what}: value name ${nv.name} was reserved`, `pick another name`, o.pos, nv.pos);
      // Old open readers keep a number they do not know; old closed readers reject it.
      else if (o.values.some((v) => v.name === nv.name)) continue;
      else if (o.closed) sink("enum-value-added", decl, `${what}: new value ${nv.name} = ${nv.value}: old peers reject it when it is sent`, `deploy every reader before any writer sends ${nv.name}`, undefined, nv.pos);
      else sink("open-enum-value-added", decl, `${what}: new value ${nv.name} = ${nv.value} (old peers keep it as an unknown number, so the wire is fine; code that handles every named value stops compiling)`, `handle ${nv.name} where the code handles every value`, undefined, nv.pos);
    }
    this.checkReserved(sink, decl, what, o.reserved, n.reserved, new Set(n.values.map((v) => v.value)), (name) => n.values.some((v) => v.name === name), o.pos, n.pos);
  }

  private checkUnion(sink: Sink, o: UnionDecl, n: UnionDecl): void {
    const decl = n.qualifiedName;
    const what = `union ${decl}`;
    this.checkClosed(sink, decl, what, o, n);
    for (const ov of o.variants) {
      const nv = n.variants.find((v) => v.id === ov.id);
      if (nv === undefined) {
        const moved = n.variants.find((v) => v.name === ov.name);
        if (moved !== undefined) sink("variant-id-changed", decl, `${what}: variant "${ov.name}" changed id from ${ov.id} to ${moved.id}`, `keep id ${ov.id}`, ov.pos, moved.pos);
        else {
          // As for enum values: closed readers reject the id; open ones keep an unknown variant, safe while the id is reserved.
          const reserved = inRanges(n.reserved.ids, ov.id);
          if (reserved && !n.closed) {
            sink("variant-removed-and-reserved", decl, `${what}: variant ${ov.id} "${ov.name}" was removed (its id is reserved and new peers keep it as an unknown variant, so the wire is fine; the generated kind is gone)`, `keep variant "${ov.name}" until no code uses it`, ov.pos, n.pos);
            continue;
          }
          const reserve = reserved ? "" : ` and add \`reserved ${ov.id};\``;
          const seen = n.closed ? "new peers reject it when an old peer sends it" : "its id is not reserved, so it may come back with another type while old peers still send it";
          sink("variant-removed", decl, `${what}: variant ${ov.id} "${ov.name}" was removed: ${seen}`, `keep variant "${ov.name}" until no peer sends it; then remove it${reserve}`, ov.pos, n.pos);
        }
        continue;
      }
      if (ov.name !== nv.name) sink("variant-renamed", decl, `${what}: variant ${ov.id} was renamed from "${ov.name}" to "${nv.name}"`, `keep the name "${ov.name}"`, ov.pos, nv.pos);
      this.typeChange(sink, "variant-type-changed", decl, `${what}: variant ${ov.id} "${nv.name}"`, ov.type, nv.type, `add a new variant with type ${typeRefText(nv.type)}`, ov.pos, nv.pos);
    }
    for (const nv of n.variants) {
      if (o.variants.some((v) => v.id === nv.id)) continue;
      if (inRanges(o.reserved.ids, nv.id)) sink("reserved-id-reused", decl, `${what}: variant id ${nv.id} ("${nv.name}") was reserved`, `pick an unused id`, o.pos, nv.pos);
      else if (o.reserved.names.includes(nv.name)) sink("reserved-name-reused", decl, `${what}: variant name "${nv.name}" was reserved`, `pick another name`, o.pos, nv.pos);
      // Old open readers keep a variant they do not know as { kind: "$unknown" }; old closed readers reject it.
      else if (o.variants.some((v) => v.name === nv.name)) continue;
      else if (o.closed) sink("variant-added", decl, `${what}: new variant ${nv.id} "${nv.name}": old peers reject it when it is sent`, `deploy every reader before any writer sends "${nv.name}"`, undefined, nv.pos);
      else sink("open-variant-added", decl, `${what}: new variant ${nv.id} "${nv.name}" (old peers keep it as an unknown variant, so the wire is fine; an exhaustive switch on its kind stops compiling)`, `handle "${nv.name}" where the code switches on the kind`, undefined, nv.pos);
    }
    this.checkReserved(sink, decl, what, o.reserved, n.reserved, new Set(n.variants.map((v) => v.id)), (name) => n.variants.some((v) => v.name === name), o.pos, n.pos);
  }

  private checkMethod(sink: Sink, svc: string, om: Method, nm: Method): void {
    const decl = `${svc}/${nm.name}`;
    const what = `method ${decl}`;
    if (om.kind !== nm.kind) sink("method-kind-changed", decl, `${what} changed kind from ${om.kind} to ${nm.kind}`, `add a new method with kind ${nm.kind} and keep ${nm.name} as ${om.kind}`, om.pos, nm.pos);
    for (const [side, oq, nq] of [["input", om.input, nm.input], ["output", om.output, nm.output]] as const) {
      const shape = this.shapeOf(oq, nq);
      if (shape.same) continue;
      const change = `${what} changed ${side} from ${oq} to ${nq}`;
      if (shape.renamed) sink("type-reference-changed", decl, `${change}, which has the same wire shape`, `keep ${side} ${oq}`, om.pos, nm.pos);
      else sink(side === "input" ? "method-input-changed" : "method-output-changed", decl, `${change}: ${shape.why}`, `keep ${side} ${oq} (add a new method for ${nq})`, om.pos, nm.pos);
    }
  }

  private checkService(sink: Sink, o: ServiceDecl, n: ServiceDecl): void {
    for (const om of o.methods) {
      const nm = n.methods.find((m) => m.name === om.name);
      if (nm === undefined) sink("method-removed", `${n.qualifiedName}/${om.name}`, `method ${n.qualifiedName}/${om.name} was removed (or renamed): old clients calling it get UNIMPLEMENTED`, `keep method ${om.name} until no client calls it`, om.pos, n.pos);
      else this.checkMethod(sink, n.qualifiedName, om, nm);
    }
  }
}
