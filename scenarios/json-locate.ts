/**
 * Finds the line of a value inside a JSON text, given its JSON pointer ("/controller/kind"), so
 * that a schema error can say "demo.json:12: field $.controller.kind: ...". A small scanner over
 * the already-valid JSON text; it returns undefined when the pointer does not lead anywhere.
 */

/** Converts an ajv instancePath ("/ego/ids/0") to the JSON-path form used in messages ("$.ego.ids[0]"). */
export function pointerToJsonPath(pointer: string): string {
  if (pointer === '') return '$';
  let out = '$';
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^[0-9]+$/.test(part) ? `[${part}]` : /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** 1-based line of the value (or, for a missing member, of its parent object) at `pointer` in `text`. */
export function lineOfPointer(text: string, pointer: string): number | undefined {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const lineAt = (pos: number) => {
    let n = 1;
    for (let k = 0; k < pos && k < text.length; k++) if (text[k] === '\n') n++;
    return n;
  };
  const skipString = () => {
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  const readString = (): string => {
    const start = i;
    skipString();
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return '';
    }
  };
  // Skips one value starting at i (after whitespace).
  const skipValue = (): void => {
    ws();
    const c = text[i];
    if (c === '"') return skipString();
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          ws();
          skipString();
          ws();
          i++; // colon
        }
        skipValue();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        i++; // close
        return;
      }
    }
    while (i < text.length && !',]} \t\r\n'.includes(text[i]!)) i++;
  };
  ws();
  for (const part of parts) {
    const c = text[i];
    const containerPos = i;
    if (c === '{') {
      i++;
      let found = false;
      for (;;) {
        ws();
        if (text[i] !== '"') break;
        const key = readString();
        ws();
        i++; // colon
        ws();
        if (key === part) {
          found = true;
          break;
        }
        skipValue();
        ws();
        if (text[i] === ',') i++;
        else break;
      }
      if (!found) return lineAt(containerPos);
    } else if (c === '[') {
      const index = Number(part);
      if (!Number.isInteger(index)) return lineAt(containerPos);
      i++;
      ws();
      for (let k = 0; k < index; k++) {
        if (text[i] === ']') return lineAt(containerPos);
        skipValue();
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      if (text[i] === ']') return lineAt(containerPos);
    } else {
      return i < text.length ? lineAt(i) : undefined;
    }
  }
  return i < text.length ? lineAt(i) : undefined;
}
