// Positions in a scenario file: a field path → the YAML node that holds it → line:column,
// and back from an offset to the path (for YAML's own errors, such as duplicate keys).

import { type Document, isAlias, isCollection, isMap, isScalar, isSeq, type LineCounter } from 'yaml';
import type { PathSegment } from './errors.js';

export type Range = readonly [number, number, number];

export function rangeOf(node: unknown): Range | undefined {
  const r = (node as { range?: Range | null } | null | undefined)?.range;
  return r ?? undefined;
}

export interface Located {
  line: number;
  column: number;
}

/** Maps field paths onto the parsed YAML so errors can say where. */
export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  at(offset: number): Located {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /**
   * The node at `path`, or the nearest existing parent. `key`: point at the key of the
   * last segment rather than its value (for unknown or misplaced keys).
   */
  locate(path: readonly PathSegment[], key = false): Located | undefined {
    let node: unknown = this.doc.contents;
    let range = rangeOf(node);
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const last = i === path.length - 1;
        const keyRange = rangeOf(pair.key);
        const valueRange = rangeOf(pair.value);
        range = last && key ? (keyRange ?? valueRange ?? range) : (valueRange ?? keyRange ?? range);
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        range = rangeOf(item) ?? range;
        node = item;
      } else {
        break;
      }
    }
    return range ? this.at(range[0]) : undefined;
  }

  /** The path to the innermost node containing `offset` (for YAML errors such as duplicate keys). */
  pathAt(offset: number): PathSegment[] {
    const path: PathSegment[] = [];
    let node: unknown = this.doc.contents;
    const within = (n: unknown) => {
      const r = rangeOf(n);
      return r !== undefined && offset >= r[0] && offset < r[2];
    };
    for (let depth = 0; depth < 1000 && isCollection(node); depth++) {
      let next: unknown;
      if (isMap(node)) {
        for (const p of node.items) {
          if (within(p.key)) {
            if (isScalar(p.key)) path.push(String(p.key.value));
            return path;
          }
          if (within(p.value)) {
            if (!isScalar(p.key)) return path;
            path.push(String(p.key.value));
            next = p.value;
            break;
          }
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => {
          if (next === undefined && within(item)) {
            path.push(i);
            next = item;
          }
        });
      }
      if (next === undefined) return path;
      node = next;
    }
    return path;
  }
}
