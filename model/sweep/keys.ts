// A sweep's `vary:` key — `network.migrationLink.bandwidth`, `migrations[0].downtimeLimit` —
// parsed into a path of map keys and list indices, and set into a copy of the base
// scenario's YAML document. Lists are never grown: an index the base does not have is an
// error; a missing map on the way (say `network.keepalive`) is created.

import { type Document, isMap, isSeq } from 'yaml';

export type KeyPath = (string | number)[];

/** A key that cannot be parsed or set; the message says why, without the file or the key. */
export class KeyError extends Error {}

const SEGMENT = /^([A-Za-z_][A-Za-z0-9_-]*)((?:\[[0-9]+\])*)$/;

/** `migrations[0].downtimeLimit` → ['migrations', 0, 'downtimeLimit']. */
export function parseKey(key: string): KeyPath {
  if (key.length === 0 || key.length > 200) throw new KeyError('expected a field path such as network.migrationLink.bandwidth or migrations[0].downtimeLimit');
  const path: KeyPath = [];
  for (const part of key.split('.')) {
    const m = SEGMENT.exec(part);
    if (!m) throw new KeyError(`"${part}" is not a field name with optional [index]; expected a path such as migrations[0].downtimeLimit`);
    path.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[([0-9]+)\]/g)) {
      const n = Number(idx[1]);
      if (!Number.isSafeInteger(n)) throw new KeyError(`index [${idx[1]}] is too large`);
      path.push(n);
    }
  }
  return path;
}

/** `['migrations', 0, 'at']` → `migrations[0].at` (the key as the scenario's errors name fields). */
export function keyText(path: KeyPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/**
 * Sets `value` at `path` in `doc` (a copy the caller owns). A map on the way that is absent
 * is created; a list index the base lacks, or a step into a value that is not a map or
 * list, is a KeyError naming the base's field.
 */
export function setAtKey(doc: Document, path: KeyPath, value: unknown): void {
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]!;
    const here = keyText(path.slice(0, i + 1));
    const next = path[i + 1]!;
    if (typeof seg === 'number') {
      if (!isSeq(node)) throw new KeyError(`${keyText(path.slice(0, i))} is not a list in the base scenario`);
      if (seg >= node.items.length) throw new KeyError(`the base scenario has no ${here}: ${keyText(path.slice(0, i))} has ${node.items.length} ${node.items.length === 1 ? 'entry' : 'entries'}`);
      node = node.items[seg];
    } else {
      if (!isMap(node)) throw new KeyError(`${i === 0 ? 'the base scenario' : keyText(path.slice(0, i))} is not a mapping`);
      let child: unknown = node.get(seg, true);
      if (child === undefined || child === null) {
        if (typeof next === 'number') throw new KeyError(`the base scenario has no ${here} list`);
        node.add(doc.createPair(seg, {}));
        child = node.get(seg, true);
      }
      node = child;
    }
  }
  const last = path[path.length - 1]!;
  const where = keyText(path.slice(0, -1));
  if (typeof last === 'number') {
    if (!isSeq(node)) throw new KeyError(`${where} is not a list in the base scenario`);
    if (last >= node.items.length) throw new KeyError(`the base scenario has no ${keyText(path)}: ${where} has ${node.items.length} ${node.items.length === 1 ? 'entry' : 'entries'}`);
    node.items[last] = doc.createNode(value);
  } else {
    if (!isMap(node)) throw new KeyError(`${where === '' ? 'the base scenario' : where} is not a mapping in the base scenario`);
    if (node.has(last)) node.set(last, doc.createNode(value));
    else node.add(doc.createPair(last, value));
  }
}
