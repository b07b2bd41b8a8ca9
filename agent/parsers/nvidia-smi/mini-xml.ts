// Just enough XML for `nvidia-smi -q -x`: elements, their text and attributes. nvidia-smi's XML
// has no namespaces, CDATA or mixed content worth keeping, so a tag scanner does; it tolerates
// broken input (an unclosed or stray tag is dropped, never thrown about).

export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** Text directly inside the element, entities decoded, trimmed. */
  text: string;
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ent: string) => {
    if (ent[0] === '#') {
      const code = ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[ent.toLowerCase()] ?? whole;
  });
}

const TOKEN = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<![^>]*>|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^>]*?)?)(\/?)>/g;
const ATTR = /([A-Za-z_][\w.:-]*)\s*=\s*"([^"]*)"/g;

/** The document's top-level elements (normally one, `nvidia_smi_log`). */
export function parseXml(text: string): XmlElement[] {
  const root: XmlElement = { name: '', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const texts: string[][] = [[]];
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    texts[texts.length - 1]!.push(text.slice(last, m.index));
    last = m.index + m[0].length;
    const [, closing, name, attrText, selfClosing] = m;
    if (name === undefined) continue; // comment, declaration, DOCTYPE
    if (closing) {
      const at = stack.map((e) => e.name).lastIndexOf(name);
      if (at <= 0) continue; // a stray closing tag
      while (stack.length > at) {
        const done = stack.pop()!;
        done.text = decodeEntities(texts.pop()!.join('')).trim();
      }
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of (attrText ?? '').matchAll(ATTR)) attrs[a[1]!] = decodeEntities(a[2]!);
    const el: XmlElement = { name, attrs, children: [], text: '' };
    stack[stack.length - 1]!.children.push(el);
    if (!selfClosing) {
      stack.push(el);
      texts.push([]);
    }
  }
  // Elements left open by truncated input keep the text they had.
  texts[texts.length - 1]!.push(text.slice(last));
  while (stack.length > 1) {
    const done = stack.pop()!;
    done.text = decodeEntities(texts.pop()!.join('')).trim();
  }
  return root.children;
}

export function xmlChild(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

export function xmlChildren(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

/** Text at a path of child names, e.g. `xmlText(gpu, 'fb_memory_usage', 'used')`. */
export function xmlText(el: XmlElement | undefined, ...path: string[]): string | undefined {
  let at = el;
  for (const name of path) at = xmlChild(at, name);
  return at?.text;
}
