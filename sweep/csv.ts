// A table as CSV text (RFC 4180, through csv-stringify): a header, then one line per row;
// null is an empty field, true/false and numbers are written as JavaScript prints them, so
// the same table is the same bytes on every machine.

import { stringify } from 'csv-stringify/sync';
import type { Table } from '../model/sweep/table.js';

export function toCsv(t: Table): string {
  return stringify(t.rows, {
    header: true,
    columns: t.columns,
    cast: { boolean: (v) => String(v), number: (v) => String(v) },
    record_delimiter: 'unix',
  });
}
