/**
 * A small, strict XML reader for the official sanctions lists: elements, attributes, text, CDATA,
 * comments and declarations, reported as events with local names (namespace prefixes dropped).
 * A DOCTYPE is refused, so no entity can expand (no billion laughs, no external entity); an
 * unknown entity, a tag left open or a closing tag that does not match is an error naming the line.
 */

export interface XmlEvents {
  open(name: string, attributes: Readonly<Record<string, string>>): void;
  close(name: string): void;
  text(text: string): void;
}

export class XmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlError';
  }
}

const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const TAG = /<([^\s/>!?]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const CLOSE = /<\/([^\s>]+)\s*>/y;

const localName = (name: string) => name.slice(name.indexOf(':') + 1);

function lineAt(xml: string, at: number): number {
  let line = 1;
  for (let i = xml.indexOf('\n'); i !== -1 && i < at; i = xml.indexOf('\n', i + 1)) line++;
  return line;
}

function decode(text: string, xml: string, at: number): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|&/g, (whole, name: string | undefined) => {
    if (name === undefined) throw new XmlError(`a bare "&" at line ${lineAt(xml, at)}`);
    if (name.startsWith('#')) {
      const code = name[1] === 'x' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      if (code > 0x10ffff)
        throw new XmlError(`a character reference out of range at line ${lineAt(xml, at)}`);
      return String.fromCodePoint(code);
    }
    const known = ENTITIES[name];
    if (known === undefined) throw new XmlError(`an unknown entity ${whole} at line ${lineAt(xml, at)}`);
    return known;
  });
}

/** Reads `xml` from start to end, calling `events` in document order; throws XmlError when it is not well-formed. */
export function readXml(xml: string, events: XmlEvents): void {
  const open: string[] = [];
  let rootSeen = false;
  let at = 0;
  const fault = (what: string, where = at) => new XmlError(`${what} at line ${lineAt(xml, where)}`);
  while (at < xml.length) {
    const lt = xml.indexOf('<', at);
    const end = lt === -1 ? xml.length : lt;
    if (end > at) {
      const text = xml.slice(at, end);
      if (open.length > 0) events.text(decode(text, xml, at));
      else if (text.trim() !== '') throw fault('text outside the root element');
    }
    if (lt === -1) break;
    at = lt;
    if (xml.startsWith('<?', at)) {
      const close = xml.indexOf('?>', at);
      if (close === -1) throw fault('an unterminated declaration');
      at = close + 2;
    } else if (xml.startsWith('<!--', at)) {
      const close = xml.indexOf('-->', at);
      if (close === -1) throw fault('an unterminated comment');
      at = close + 3;
    } else if (xml.startsWith('<![CDATA[', at)) {
      const close = xml.indexOf(']]>', at);
      if (close === -1 || open.length === 0) throw fault('a CDATA section out of place');
      events.text(xml.slice(at + 9, close));
      at = close + 3;
    } else if (xml.startsWith('<!', at)) {
      throw fault('a DOCTYPE or other declaration, which this reader refuses');
    } else if (xml.startsWith('</', at)) {
      CLOSE.lastIndex = at;
      const match = CLOSE.exec(xml);
      if (!match) throw fault('a malformed closing tag');
      const name = localName(match[1] as string);
      if (open.pop() !== name) throw fault(`a closing tag </${name}> that matches no open element`);
      events.close(name);
      at = CLOSE.lastIndex;
    } else {
      TAG.lastIndex = at;
      const match = TAG.exec(xml);
      if (!match) throw fault('a malformed tag');
      if (open.length === 0 && rootSeen) throw fault('a second root element');
      rootSeen = true;
      const name = localName(match[1] as string);
      // No prototype: an attribute named __proto__ is just an attribute.
      const attributes = Object.create(null) as Record<string, string>;
      for (const [, key, double, single] of (match[2] as string).matchAll(ATTRIBUTE)) {
        attributes[localName(key as string)] = decode(double ?? single ?? '', xml, at);
      }
      events.open(name, attributes);
      if (match[3] === '/') events.close(name);
      else open.push(name);
      at = TAG.lastIndex;
    }
  }
  if (open.length > 0) throw fault(`the document ends inside <${open.at(-1)}>`, xml.length);
  if (!rootSeen) throw new XmlError('no XML element found');
}
