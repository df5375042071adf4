/**
 * A small strict XML parser for tests (no dependency): elements, attributes, text, comments, the XML
 * declaration and CDATA. It rejects what a conforming parser rejects in that subset: unbalanced or
 * crossed tags, unquoted or duplicate attributes, a raw '<' or '&' in text or attribute values,
 * unknown entities, control characters, and more or less than one root element.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_.:-]*/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(s: string, where: number): string {
  if (/[<]/.test(s)) throw new Error(`XML: raw '<' at offset ${where}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(s))
    throw new Error(`XML: control character near offset ${where}`);
  return s.replace(/&([^;]*);|&/g, (m, ent: string | undefined) => {
    if (ent === undefined) throw new Error(`XML: bare '&' near offset ${where}`);
    if (ent in ENTITIES) return ENTITIES[ent];
    const num = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(ent);
    if (num) return String.fromCodePoint(num[1][0] === 'x' ? parseInt(num[1].slice(1), 16) : Number(num[1]));
    throw new Error(`XML: unknown entity '${m}' near offset ${where}`);
  });
}

export function parseXml(src: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  if (src.startsWith('<?xml')) {
    const end = src.indexOf('?>');
    if (end < 0) throw new Error('XML: unterminated declaration');
    i = end + 2;
  }
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const text = src.slice(i, lt < 0 ? src.length : lt);
    if (text.length) {
      const decoded = decode(text, i);
      if (stack.length) stack[stack.length - 1].text += decoded;
      else if (decoded.trim()) throw new Error(`XML: text outside the root element at offset ${i}`);
    }
    if (lt < 0) break;
    i = lt;
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i);
      if (end < 0) throw new Error('XML: unterminated comment');
      i = end + 3;
      continue;
    }
    if (src.startsWith('<![CDATA[', i)) {
      const end = src.indexOf(']]>', i);
      if (end < 0 || !stack.length) throw new Error('XML: bad CDATA');
      stack[stack.length - 1].text += src.slice(i + 9, end);
      i = end + 3;
      continue;
    }
    if (src[i + 1] === '/') {
      const m = NAME.exec(src.slice(i + 2));
      if (!m) throw new Error(`XML: bad closing tag at offset ${i}`);
      const close = src.indexOf('>', i);
      if (close < 0 || src.slice(i + 2 + m[0].length, close).trim())
        throw new Error(`XML: bad closing tag at offset ${i}`);
      const open = stack.pop();
      if (!open || open.name !== m[0])
        throw new Error(`XML: </${m[0]}> at offset ${i} closes <${open?.name ?? 'nothing'}>`);
      i = close + 1;
      continue;
    }
    const m = NAME.exec(src.slice(i + 1));
    if (!m) throw new Error(`XML: bad tag at offset ${i}`);
    const el: XmlElement = { name: m[0], attrs: {}, children: [], text: '' };
    i += 1 + m[0].length;
    for (;;) {
      const ws = /^\s*/.exec(src.slice(i))![0];
      i += ws.length;
      if (src.startsWith('/>', i) || src[i] === '>') break;
      if (!ws.length) throw new Error(`XML: missing space before attribute at offset ${i}`);
      const an = NAME.exec(src.slice(i));
      if (!an) throw new Error(`XML: bad attribute at offset ${i}`);
      i += an[0].length;
      const eq = /^\s*=\s*(["'])/.exec(src.slice(i));
      if (!eq) throw new Error(`XML: attribute ${an[0]} without a quoted value at offset ${i}`);
      i += eq[0].length;
      const end = src.indexOf(eq[1], i);
      if (end < 0) throw new Error(`XML: unterminated attribute ${an[0]}`);
      if (an[0] in el.attrs) throw new Error(`XML: duplicate attribute ${an[0]} on <${el.name}>`);
      el.attrs[an[0]] = decode(src.slice(i, end), i);
      i = end + 1;
    }
    const selfClosing = src.startsWith('/>', i);
    i += selfClosing ? 2 : 1;
    if (stack.length) stack[stack.length - 1].children.push(el);
    else if (root) throw new Error(`XML: second root element <${el.name}>`);
    else root = el;
    if (!selfClosing) stack.push(el);
  }
  if (stack.length) throw new Error(`XML: <${stack[stack.length - 1].name}> is never closed`);
  if (!root) throw new Error('XML: no root element');
  return root;
}

export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}
