/**
 * A strict, tiny XML reader for tests of generated XML (the JUnit report of
 * `ringrpc check-compat`): elements, attributes, text and the five
 * predefined entities; a declaration at the top. Throws on anything not
 * well-formed (an unclosed or mismatched tag, a bare `&` or `<`, text
 * outside the root), so a test that parses a report also checks its syntax.
 */

export interface XmlElement {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decode(s: string): string {
  return s.replace(/&([a-z]+);|&|</g, (m, name: string | undefined) => {
    const v = name === undefined ? undefined : ENTITIES[name];
    if (v === undefined) throw new Error(`xml: bare or unknown "${m}"`);
    return v;
  });
}

export function parseXml(text: string): XmlElement {
  let rest = text.replace(/^<\?xml[^?]*\?>\s*/, "");
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const tag = /^<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>/;
  while (rest.length > 0) {
    if (rest.startsWith("<")) {
      const m = tag.exec(rest);
      if (m === null) throw new Error(`xml: bad tag at "${rest.slice(0, 40)}"`);
      rest = rest.slice(m[0].length);
      const [, close, name, attrText, selfClose] = m;
      if (close === "/") {
        const open = stack.pop();
        if (open?.name !== name) throw new Error(`xml: </${name}> closes <${open?.name ?? "nothing"}>`);
        continue;
      }
      if (root !== undefined && stack.length === 0) throw new Error("xml: a second root element");
      const attrs: Record<string, string> = {};
      for (const a of attrText!.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
        if (a[1]! in attrs) throw new Error(`xml: duplicate attribute ${a[1]}`);
        attrs[a[1]!] = decode(a[2]!);
      }
      const el: XmlElement = { name: name!, attrs, children: [], text: "" };
      stack.at(-1)?.children.push(el);
      root ??= el;
      if (selfClose !== "/") stack.push(el);
    } else {
      const end = rest.indexOf("<");
      const chunk = end < 0 ? rest : rest.slice(0, end);
      rest = end < 0 ? "" : rest.slice(end);
      const top = stack.at(-1);
      if (top === undefined) {
        if (chunk.trim() !== "") throw new Error(`xml: text outside the root: "${chunk.trim().slice(0, 40)}"`);
      } else top.text += decode(chunk);
    }
  }
  if (stack.length > 0) throw new Error(`xml: <${stack.at(-1)!.name}> is never closed`);
  if (root === undefined) throw new Error("xml: no root element");
  return root;
}
