// A forgiving JSON reader for `sensors -j`. lm-sensors writes its JSON by hand with printf, and
// real output breaks it: a trailing comma where a subfeature could not be read, an
// `ERROR: Can't get value of subfeature in0_input: Can't read` line from stderr mixed in,
// `nan` or `-nan` for a value, output cut short. JSON.parse rejects the whole document for any
// of these; this reader repairs or skips the broken part, says so in `warnings`, and keeps
// everything else.

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** An object as its entries in document order (keys such as `__proto__` stay plain data). */
export interface JsonObject {
  readonly entries: Array<[string, JsonValue]>;
}

export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Token =
  | { readonly type: 'punct'; readonly text: '{' | '}' | '[' | ']' | ':' | ','; readonly line: number }
  | { readonly type: 'string'; readonly text: string; readonly line: number }
  | { readonly type: 'number'; readonly value: number; readonly text: string; readonly line: number }
  | { readonly type: 'word'; readonly text: string; readonly line: number };

// A document nested deeper than this is not sensors output (it nests three levels).
const MAX_DEPTH = 32;

/** Lines that cannot be part of a JSON document: a first character no JSON line starts with. */
const JSON_LINE_START = /^\s*(?:[{}[\]",:0-9-]|$|true|false|null|nan|-?inf)/i;

function tokenize(text: string, warnings: string[]): Token[] {
  const tokens: Token[] = [];
  const lines = text.split('\n');
  lines.forEach((lineText, index) => {
    const line = index + 1;
    if (!JSON_LINE_START.test(lineText)) {
      warnings.push(`line ${line}: not JSON, skipped: ${JSON.stringify(lineText.trim().slice(0, 120))}`);
      return;
    }
    const re = /\s+|"((?:[^"\\]|\\.)*)"|(-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![\w.])|([{}[\]:,])|([A-Za-z_+-][\w.+-]*)|(.)/gy;
    let m: RegExpExecArray | null;
    while ((m = re.exec(lineText)) !== null) {
      if (m[1] !== undefined) tokens.push({ type: 'string', text: unescape(m[1], line, warnings), line });
      else if (m[2] !== undefined) tokens.push({ type: 'number', value: Number(m[2]), text: m[2], line });
      else if (m[3] !== undefined) tokens.push({ type: 'punct', text: m[3] as '{', line });
      else if (m[4] !== undefined) tokens.push({ type: 'word', text: m[4], line });
      else if (m[5] !== undefined) warnings.push(`line ${line}: unexpected ${JSON.stringify(m[5])}, skipped`);
    }
  });
  return tokens;
}

function unescape(body: string, line: number, warnings: string[]): string {
  if (!body.includes('\\')) return body;
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    warnings.push(`line ${line}: bad escape in string ${JSON.stringify(body.slice(0, 60))}; kept as written`);
    return body;
  }
}

class Reader {
  private pos = 0;

  constructor(
    private readonly tokens: readonly Token[],
    readonly warnings: string[],
  ) {}

  get done(): boolean {
    return this.pos >= this.tokens.length;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  value(depth: number): JsonValue | undefined {
    const t = this.peek();
    if (t === undefined) return undefined;
    // A closing bracket where a value belongs (`"in0_input": }`) ends the enclosing container.
    if (depth > 0 && t.type === 'punct' && (t.text === '}' || t.text === ']')) {
      this.warnings.push(`line ${t.line}: expected a value, found ${JSON.stringify(t.text)}`);
      return undefined;
    }
    this.pos++;
    if (t.type === 'string') return t.text;
    if (t.type === 'number') return t.value;
    if (t.type === 'word') return this.word(t.text, t.line);
    if (t.text === '{' || t.text === '[') {
      if (depth >= MAX_DEPTH) {
        this.warnings.push(`line ${t.line}: nested deeper than ${MAX_DEPTH}; the rest is skipped`);
        this.pos = this.tokens.length;
        return null;
      }
      return t.text === '{' ? this.object(depth + 1) : this.array(depth + 1);
    }
    this.warnings.push(`line ${t.line}: expected a value, found ${JSON.stringify(t.text)}`);
    return undefined;
  }

  private word(text: string, line: number): JsonValue {
    if (text === 'true') return true;
    if (text === 'false') return false;
    if (text === 'null') return null;
    // printf("%f") of a failed read: nan, -nan, inf. Not a number a metric can carry.
    this.warnings.push(`line ${line}: ${JSON.stringify(text)} is not a JSON value; read as null`);
    return null;
  }

  private object(depth: number): JsonObject {
    const entries: Array<[string, JsonValue]> = [];
    for (;;) {
      const t = this.peek();
      if (t === undefined) {
        this.warnings.push('document ends inside an object; closed it');
        return { entries };
      }
      if (t.type === 'punct' && t.text === '}') {
        this.pos++;
        return { entries };
      }
      if (t.type === 'punct' && t.text === ',') {
        this.pos++;
        const next = this.peek();
        if (next?.type === 'punct' && next.text === '}') this.warnings.push(`line ${t.line}: trailing comma before }; ignored`);
        continue;
      }
      if (t.type !== 'string') {
        this.pos++;
        this.warnings.push(`line ${t.line}: expected a key, found ${JSON.stringify(t.text)}; skipped`);
        continue;
      }
      this.pos++;
      const colon = this.peek();
      if (colon?.type === 'punct' && colon.text === ':') this.pos++;
      else this.warnings.push(`line ${t.line}: no ':' after key ${JSON.stringify(t.text)}`);
      const value = this.value(depth);
      if (value !== undefined) entries.push([t.text, value]);
      // A missing comma between entries is repaired by simply reading on.
    }
  }

  private array(depth: number): JsonValue[] {
    const items: JsonValue[] = [];
    for (;;) {
      const t = this.peek();
      if (t === undefined) {
        this.warnings.push('document ends inside an array; closed it');
        return items;
      }
      if (t.type === 'punct' && t.text === ']') {
        this.pos++;
        return items;
      }
      if (t.type === 'punct' && t.text === ',') {
        this.pos++;
        continue;
      }
      const value = this.value(depth);
      if (value !== undefined) items.push(value);
    }
  }
}

/**
 * The first JSON value in `text`, repaired where needed, or undefined when there is none.
 * Never throws; every repair and skipped part is described in `warnings`.
 */
export function parseLenientJson(text: string): { value: JsonValue | undefined; warnings: string[] } {
  const warnings: string[] = [];
  const reader = new Reader(tokenize(text, warnings), warnings);
  let value: JsonValue | undefined;
  while (value === undefined && !reader.done) value = reader.value(0);
  if (!reader.done) warnings.push('text after the JSON document; ignored');
  return { value, warnings };
}
