// The HTML of a report page (docs/reports.md): escaping, the page shell with its inline style
// and a policy that forbids every fetch (the file opens from disk, needs no network and no
// script), tables, and the figure a chart's SVG sits in.

/** Text for HTML content or a quoted attribute. */
export function esc(text: string | number | boolean): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 1.5em auto; max-width: 1400px; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #ddd; padding: .2em .5em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.unmeasured { color: #8a5a00; font-style: italic; }
.flag { background: #ffe9c7; }
.failed { border: 3px solid #c00; background: #fde8e8; color: #900; padding: .6em 1em; font-weight: bold; font-size: 1.1em; margin: .5em 0; }
.reverted { border: 3px solid #c80; background: #fff4e0; color: #7a4a00; padding: .6em 1em; font-weight: bold; margin: .5em 0; }
.note { color: #555; }
.columns { display: grid; grid-template-columns: repeat(var(--n), minmax(0, 1fr)); gap: 1.5em; }
.columns > div { min-width: 0; overflow-x: auto; }
.row { display: flex; flex-wrap: wrap; gap: 0 2em; align-items: flex-start; }
figure { margin: .5em 0 1em; } figcaption { color: #555; font-size: .9em; max-width: 36em; }
svg { max-width: 100%; height: auto; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; } dt { color: #555; } dd { margin: 0; }
`;

/**
 * A whole page. The Content-Security-Policy lets the page load nothing at all (no script, no
 * font, no image, no stylesheet but its own inline one): what is not inline cannot show.
 */
export function page(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** A cell: HTML already made safe, with optional class (e.g. `num`, `unmeasured`). */
export interface HtmlCell {
  html: string;
  cls?: string;
}

const cell = (c: HtmlCell | string, tag: 'td' | 'th'): string =>
  typeof c === 'string' ? `<${tag}>${esc(c)}</${tag}>` : `<${tag}${c.cls ? ` class="${esc(c.cls)}"` : ''}>${c.html}</${tag}>`;

/** A table; plain strings are escaped, HtmlCells are taken as they are. */
export function table(header: string[], rows: (HtmlCell | string)[][], attrs = ''): string {
  const head = `<tr>${header.map((h) => cell(h, 'th')).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c) => cell(c, 'td')).join('')}</tr>`).join('\n');
  return `<table${attrs ? ` ${attrs}` : ''}>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** A chart's SVG in a figure named for tests and readers (`data-chart`), with a caption. */
export function figure(chart: string, svg: string, caption: string, data: Record<string, string | number> = {}): string {
  const attrs = Object.entries(data).map(([k, v]) => ` data-${k}="${esc(v)}"`).join('');
  return `<figure data-chart="${esc(chart)}"${attrs}>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
}

/** Definition list of label → HTML. */
export function facts(items: [string, string][]): string {
  return `<dl>${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

/** Items in a row that wraps when the page is narrow. */
export function row(items: string[]): string {
  return `<div class="row">${items.map((x) => `<div>${x}</div>`).join('')}</div>`;
}

/** Side-by-side columns, one per item (a single item takes the whole width). */
export function columns(items: string[]): string {
  return `<div class="columns" style="--n: ${items.length}">${items.map((x) => `<div>${x}</div>`).join('')}</div>`;
}
