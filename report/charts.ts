// Charts as inline SVG: a Vega-Lite spec compiled with vega-lite and rendered by vega in Node,
// with no browser, canvas or network (docs/reports.md says why Vega-Lite). Every chart of a
// report goes through `svgOf`, so they share one look.

import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';

/** The look every chart shares: system fonts only (nothing to fetch), a white background. */
const CONFIG = {
  font: 'sans-serif',
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
  view: { stroke: '#ddd' },
};

/**
 * The SVG of a Vega-Lite spec. Its marks carry vega's classes — `mark-rect`, `mark-symbol`,
 * `mark-line`, `mark-area` with `role-mark` for data, `role-legend-symbol` and `role-axis-*`
 * for the rest — by which the browser test counts them.
 */
export async function svgOf(spec: TopLevelSpec): Promise<string> {
  const full = { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const view = new View(parse(compile(full).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
