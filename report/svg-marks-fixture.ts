// Test helper: the charts of a report page and their marks, read from the HTML text as vega
// writes it (a `<figure data-chart=…>` holding an `<svg>`, each data mark a `<path>` inside a
// `<g class="mark-TYPE role-mark …">`; lines and areas one path per series).

/** The figures of one chart kind, with their data-* attributes and SVG text. */
export function figuresOf(html: string, chart: string): { attrs: Record<string, string>; svg: string }[] {
  const out: { attrs: Record<string, string>; svg: string }[] = [];
  const re = /<figure data-chart="([^"]*)"([^>]*)>([\s\S]*?)<\/figure>/g;
  for (const m of html.matchAll(re)) {
    if (m[1] !== chart) continue;
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(/data-([a-z-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!;
    out.push({ attrs, svg: m[3]! });
  }
  return out;
}

/** Data marks of `type` (`symbol`, `rect`, `line`, `area`, `text`) per layer, in document order. */
export function marksOf(svg: string, type: string): number[] {
  const re = new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*>([\\s\\S]*?)</g>`, 'g');
  return [...svg.matchAll(re)].map((m) => (m[1]!.match(type === 'text' ? /<text/g : /<path/g) ?? []).length);
}

/** The x positions of the x-axis labels, by label text (the first axis group of the chart). */
export function xAxisLabels(svg: string): { text: string; x: number }[] {
  const axis = /aria-label="X-axis[\s\S]*?<g class="mark-text role-axis-label"[^>]*>([\s\S]*?)<\/g>/.exec(svg);
  if (!axis) return [];
  return [...axis[1]!.matchAll(/<text[^>]*transform="translate\(([-\d.]+),[^"]*"[^>]*>([^<]*)<\/text>/g)].map((m) => ({ text: m[2]!, x: Number(m[1]) }));
}
