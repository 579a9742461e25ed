/**
 * Wire-compatibility checker: compares an old and a new Model and lists every
 * change that breaks peers built from the other version (docs/IDL.md,
 * "Compatibility rules"). Declarations are matched by qualified name, fields
 * and variants by id, enum values by name and number, methods by name.
 * Reports only; never throws; output is in the new model's source order.
 */
import type {
  Decl, EnumDecl, Field, IdRange, Method, Model, Pos, Reserved, ServiceDecl, TypeRef, UnionDecl, Value,
} from "./model.ts";
import { formatLocation, locate, type Location } from "./source.ts";

export type CompatRule =
  | "type-removed"
  | "type-kind-changed"
  | "field-removed"
  | "field-id-changed"
  | "field-type-changed"
  | "field-made-required"
  | "field-made-optional"
  | "required-field-added"
  | "required-field-removed"
  | "field-default-changed"
  | "error-status-changed"
  | "enum-value-added"
  | "variant-added"
  | "type-made-closed"
  | "reserved-id-reused"
  | "reserved-name-reused"
  | "reservation-removed"
  | "enum-value-removed"
  | "enum-value-number-changed"
  | "variant-removed"
  | "variant-id-changed"
  | "variant-type-changed"
  | "service-removed"
  | "method-removed"
  | "method-kind-changed"
  | "method-input-changed"
  | "method-output-changed";

export interface Incompatibility {
  readonly rule: CompatRule;
  readonly message: string;
  /** Where the thing was in the old version (undefined for something new). */
  readonly old: Location | undefined;
  /** Where it is in the new version (undefined for something removed: then the enclosing declaration). */
  readonly new: Location | undefined;
}

export function typeRefText(t: TypeRef): string {
  switch (t.kind) {
    case "scalar": return t.name;
    case "list": return `list<${typeRefText(t.elem)}>`;
    case "map": return `map<${typeRefText(t.key)}, ${typeRefText(t.value)}>`;
    case "ref": return t.qualifiedName;
  }
}

const inRanges = (ranges: readonly IdRange[], id: number): boolean => ranges.some((r) => r.from <= id && id <= r.to);

/**
 * The first id of `r` that is neither in one of `ranges` nor `used`, or
 * null. Jumps over whole ranges, so a reservation of millions of ids costs
 * as many steps as there are ranges and used ids, not ids.
 */
function firstUncovered(r: IdRange, ranges: readonly IdRange[], used: ReadonlySet<number>): number | null {
  let id = r.from;
  while (id <= r.to) {
    const covering = ranges.find((x) => x.from <= id && id <= x.to);
    if (covering !== undefined) id = covering.to + 1;
    else if (used.has(id)) id++;
    else return id;
  }
  return null;
}

/** A field default as IDL text ("none" when there is none). */
function valueText(v: Value | undefined): string {
  if (v === undefined) return "none";
  switch (v.kind) {
    case "string": return JSON.stringify(v.value);
    case "enum": return v.name;
    default: return String(v.value);
  }
}

/** `new.ridl:3:5: breaking [field-removed]: message (old: old.ridl:3:5)` */
export function formatIncompatibility(inc: Incompatibility): string {
  const where = inc.new ?? inc.old;
  const head = where === undefined ? "" : `${formatLocation(where)}: `;
  const was = inc.old !== undefined && inc.new !== undefined ? ` (was at ${formatLocation(inc.old)})` : "";
  return `${head}breaking [${inc.rule}]: ${inc.message}${was}`;
}

export function checkCompat(oldModel: Model, newModel: Model): Incompatibility[] {
  const out: Incompatibility[] = [];
  const oldAt = (p: Pos): Location => locate(oldModel, p);
  const newAt = (p: Pos): Location => locate(newModel, p);
  const add = (rule: CompatRule, message: string, oldPos: Pos | undefined, newPos: Pos | undefined): void => {
    out.push({ rule, message, old: oldPos && oldAt(oldPos), new: newPos && newAt(newPos) });
  };

  const checkReserved = (what: string, o: Reserved, n: Reserved, used: ReadonlySet<number>, usedName: (name: string) => boolean, oldPos: Pos, newPos: Pos): void => {
    for (const r of o.ids) {
      const id = firstUncovered(r, n.ids, used);
      if (id !== null) add("reservation-removed", `${what}: reserved id ${id} is no longer reserved (a later change could reuse it)`, oldPos, newPos);
    }
    for (const name of o.names) {
      if (!n.names.includes(name) && !usedName(name)) add("reservation-removed", `${what}: reserved name "${name}" is no longer reserved`, oldPos, newPos);
    }
  };

  const checkFields = (what: string, o: { fields: readonly Field[]; reserved: Reserved; pos: Pos }, n: { fields: readonly Field[]; reserved: Reserved; pos: Pos }): void => {
    const newById = new Map(n.fields.map((f) => [f.id, f]));
    const oldById = new Map(o.fields.map((f) => [f.id, f]));
    for (const of of o.fields) {
      const nf = newById.get(of.id);
      if (nf === undefined) {
        const renamed = n.fields.find((f) => f.name === of.name);
        if (renamed !== undefined) {
          add("field-id-changed", `${what}: field "${of.name}" changed id from ${of.id} to ${renamed.id}`, of.pos, renamed.pos);
        } else if (!inRanges(n.reserved.ids, of.id)) {
          add("field-removed", `${what}: field ${of.id} "${of.name}" was removed without reserving its id (add "reserved ${of.id};")`, of.pos, n.pos);
        }
        if (renamed === undefined && !of.optional && of.default === undefined) {
          add("required-field-removed", `${what}: field ${of.id} "${of.name}" was required: old peers reject every message without it (first make it optional or give it a default, deploy that everywhere, then remove it)`, of.pos, n.pos);
        }
        continue;
      }
      const ot = typeRefText(of.type);
      const nt = typeRefText(nf.type);
      if (ot !== nt) add("field-type-changed", `${what}: field ${of.id} "${nf.name}" changed type from ${ot} to ${nt}`, of.pos, nf.pos);
      // A default covers absence: a reader with one fills it in instead of rejecting the message.
      if (of.optional && !nf.optional && nf.default === undefined)
        add("field-made-required", `${what}: field ${of.id} "${nf.name}" was optional and is now required (new peers reject messages from old ones without it; or give it a default)`, of.pos, nf.pos);
      if (!of.optional && nf.optional && of.default === undefined)
        add("field-made-optional", `${what}: field ${of.id} "${nf.name}" was required and is now optional (old peers reject messages without it)`, of.pos, nf.pos);
      const od = valueText(of.default);
      const nd = valueText(nf.default);
      if (od !== nd && (of.optional || nf.optional || (of.default !== undefined && nf.default !== undefined)))
        add("field-default-changed", `${what}: field ${of.id} "${nf.name}" default changed from ${od} to ${nd}: an absent field means ${od} to old peers and ${nd} to new ones`, of.pos, nf.pos);
    }
    for (const nf of n.fields) {
      if (oldById.has(nf.id)) {
        if (o.reserved.names.includes(nf.name) && oldById.get(nf.id)?.name !== nf.name) {
          add("reserved-name-reused", `${what}: field name "${nf.name}" was reserved`, undefined, nf.pos);
        }
        continue;
      }
      if (inRanges(o.reserved.ids, nf.id)) add("reserved-id-reused", `${what}: field id ${nf.id} ("${nf.name}") was reserved`, o.pos, nf.pos);
      else if (o.reserved.names.includes(nf.name)) add("reserved-name-reused", `${what}: field name "${nf.name}" was reserved`, o.pos, nf.pos);
      else if (!nf.optional && nf.default === undefined && !o.fields.some((f) => f.name === nf.name)) {
        add("required-field-added", `${what}: new field ${nf.id} "${nf.name}" is required (old peers never send it: make it optional or give it a default)`, undefined, nf.pos);
      }
    }
    checkReserved(what, o.reserved, n.reserved, new Set(newById.keys()), (name) => n.fields.some((f) => f.name === name), o.pos, n.pos);
  };

  /**
   * Open and closed (docs/ENCODING.md, sections 3 and 4): the bytes are the
   * same, only what a reader does with a number or variant it does not know
   * differs. Closed -> open is safe: new readers accept everything old ones
   * did, and new writers send old readers only members (an addition is
   * judged on its own, against the old closed readers). Open -> closed
   * breaks: old writers may send what they do not know (an unknown value
   * they decoded and pass on, any i32 for an enum), which new readers reject.
   */
  const checkClosed = (what: string, o: EnumDecl | UnionDecl, n: EnumDecl | UnionDecl): void => {
    if (!o.closed && n.closed) add("type-made-closed", `${what} became [closed]: new peers reject the unknown values old peers may send or pass on`, o.pos, n.pos);
  };

  const checkEnum = (o: EnumDecl, n: EnumDecl): void => {
    const what = `enum ${n.qualifiedName}`;
    checkClosed(what, o, n);
    for (const ov of o.values) {
      const byName = n.values.find((v) => v.name === ov.name);
      if (byName !== undefined) {
        if (byName.value !== ov.value) add("enum-value-number-changed", `${what}: value ${ov.name} changed number from ${ov.value} to ${byName.value}`, ov.pos, byName.pos);
        continue;
      }
      const byNumber = n.values.find((v) => v.value === ov.value);
      if (byNumber !== undefined) continue; // a rename keeps the wire number
      // Closed readers reject an enum number they do not know (docs/ENCODING.md), reserved or not; open ones see a number without a name.
      const reserve = inRanges(n.reserved.ids, ov.value) ? "" : ` (and reserve ${ov.value})`;
      const seen = n.closed ? "new peers reject it" : "new peers see only an unknown number";
      add("enum-value-removed", `${what}: value ${ov.name} = ${ov.value} was removed: ${seen} when an old peer sends it${reserve}`, ov.pos, n.pos);
    }
    for (const nv of n.values) {
      if (o.values.some((v) => v.value === nv.value)) continue;
      if (inRanges(o.reserved.ids, nv.value)) add("reserved-id-reused", `${what}: value number ${nv.value} (${nv.name}) was reserved`, o.pos, nv.pos);
      else if (o.reserved.names.includes(nv.name)) add("reserved-name-reused", `${what}: value name ${nv.name} was reserved`, o.pos, nv.pos);
      // Old open readers keep a number they do not know; old closed readers reject it.
      else if (o.closed && !o.values.some((v) => v.name === nv.name)) add("enum-value-added", `${what}: new value ${nv.name} = ${nv.value}: old peers reject it when it is sent (deploy every reader before any writer sends it)`, undefined, nv.pos);
    }
    checkReserved(what, o.reserved, n.reserved, new Set(n.values.map((v) => v.value)), (name) => n.values.some((v) => v.name === name), o.pos, n.pos);
  };

  const checkUnion = (o: UnionDecl, n: UnionDecl): void => {
    const what = `union ${n.qualifiedName}`;
    checkClosed(what, o, n);
    for (const ov of o.variants) {
      const nv = n.variants.find((v) => v.id === ov.id);
      if (nv === undefined) {
        const renamed = n.variants.find((v) => v.name === ov.name);
        if (renamed !== undefined) add("variant-id-changed", `${what}: variant "${ov.name}" changed id from ${ov.id} to ${renamed.id}`, ov.pos, renamed.pos);
        else {
          const reserve = inRanges(n.reserved.ids, ov.id) ? "" : ` (and reserve ${ov.id})`;
          const seen = n.closed ? "new peers reject it" : "new peers see only an unknown variant";
          add("variant-removed", `${what}: variant ${ov.id} "${ov.name}" was removed: ${seen} when an old peer sends it${reserve}`, ov.pos, n.pos);
        }
        continue;
      }
      const ot = typeRefText(ov.type);
      const nt = typeRefText(nv.type);
      if (ot !== nt) add("variant-type-changed", `${what}: variant ${ov.id} "${nv.name}" changed type from ${ot} to ${nt}`, ov.pos, nv.pos);
    }
    for (const nv of n.variants) {
      if (o.variants.some((v) => v.id === nv.id)) continue;
      if (inRanges(o.reserved.ids, nv.id)) add("reserved-id-reused", `${what}: variant id ${nv.id} ("${nv.name}") was reserved`, o.pos, nv.pos);
      else if (o.reserved.names.includes(nv.name)) add("reserved-name-reused", `${what}: variant name "${nv.name}" was reserved`, o.pos, nv.pos);
      // Old open readers keep a variant they do not know as { kind: "$unknown" }; old closed readers reject it.
      else if (o.closed && !o.variants.some((v) => v.name === nv.name)) add("variant-added", `${what}: new variant ${nv.id} "${nv.name}": old peers reject it when it is sent (deploy every reader before any writer sends it)`, undefined, nv.pos);
    }
    checkReserved(what, o.reserved, n.reserved, new Set(n.variants.map((v) => v.id)), (name) => n.variants.some((v) => v.name === name), o.pos, n.pos);
  };

  const checkMethod = (svc: string, om: Method, nm: Method): void => {
    const what = `method ${svc}/${nm.name}`;
    if (om.kind !== nm.kind) add("method-kind-changed", `${what} changed kind from ${om.kind} to ${nm.kind}`, om.pos, nm.pos);
    if (om.input !== nm.input) add("method-input-changed", `${what} changed input from ${om.input} to ${nm.input}`, om.pos, nm.pos);
    if (om.output !== nm.output) add("method-output-changed", `${what} changed output from ${om.output} to ${nm.output}`, om.pos, nm.pos);
  };

  const checkService = (o: ServiceDecl, n: ServiceDecl): void => {
    for (const om of o.methods) {
      const nm = n.methods.find((m) => m.name === om.name);
      if (nm === undefined) add("method-removed", `method ${n.qualifiedName}/${om.name} was removed (or renamed): old clients calling it will fail`, om.pos, n.pos);
      else checkMethod(n.qualifiedName, om, nm);
    }
  };

  const pair = (o: Decl, n: Decl): void => {
    if (o.kind !== n.kind) {
      add("type-kind-changed", `${n.qualifiedName} changed from ${o.kind} to ${n.kind}`, o.pos, n.pos);
      return;
    }
    if ((o.kind === "struct" || o.kind === "error") && (n.kind === "struct" || n.kind === "error")) checkFields(`${n.kind} ${n.qualifiedName}`, o, n);
    if (o.kind === "error" && n.kind === "error" && o.status !== n.status)
      add("error-status-changed", `error ${n.qualifiedName} changed status from ${o.status} to ${n.status}: old peers rebuild it with ${o.status}, so the two sides report different statuses for one error`, o.pos, n.pos);
    else if (o.kind === "enum" && n.kind === "enum") checkEnum(o, n);
    else if (o.kind === "union" && n.kind === "union") checkUnion(o, n);
    else if (o.kind === "service" && n.kind === "service") checkService(o, n);
  };

  for (const n of newModel.decls) {
    const o = oldModel.byName.get(n.qualifiedName);
    if (o !== undefined) pair(o, n);
  }
  for (const o of oldModel.decls) {
    if (newModel.byName.has(o.qualifiedName) || o.kind === "const") continue;
    if (o.kind === "service") add("service-removed", `service ${o.qualifiedName} was removed: old clients calling it will fail`, o.pos, undefined);
    else add("type-removed", `${o.kind} ${o.qualifiedName} was removed`, o.pos, undefined);
  }
  return out;
}
