// A small inline SVG chart of duration and lateness over a job's last runs.

import { h, svg } from './dom.js';
import { duration } from './format.js';

const W = 640;
const H = 180;
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };

/**
 * `runs`: oldest first, each with `duration_ms` and `lateness_ms` (either may be null).
 * Returns a figure with the chart, its legend and a text summary for screen readers.
 */
export function runChart(runs) {
  const values = runs.flatMap((r) => [r.duration_ms, r.lateness_ms]).filter((v) => v !== null && v !== undefined);
  const max = Math.max(1, ...values);
  const min = Math.min(0, ...values);
  const x = (i) => PAD.left + (runs.length <= 1 ? (W - PAD.left - PAD.right) / 2 : (i * (W - PAD.left - PAD.right)) / (runs.length - 1));
  const y = (v) => PAD.top + ((max - v) * (H - PAD.top - PAD.bottom)) / (max - min || 1);
  const series = (key, cls, label) => {
    const pts = runs.map((r, i) => [i, r[key]]).filter(([, v]) => v !== null && v !== undefined);
    return svg('g', { class: `series ${cls}` },
      svg('polyline', { points: pts.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' '), fill: 'none' }),
      pts.map(([i, v]) => svg('circle', { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 3 },
        svg('title', {}, `${label}: ${duration(v)} (run ${runs[i].id})`))));
  };
  const ticks = [max, (max + min) / 2, min];
  const avg = (key) => {
    const v = runs.map((r) => r[key]).filter((n) => n !== null && n !== undefined);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const summary = `Last ${runs.length} runs: mean duration ${duration(avg('duration_ms'))}, mean lateness ${duration(avg('lateness_ms'))}, largest value ${duration(max)}.`;
  return h('figure', { class: 'chart' },
    svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary, preserveAspectRatio: 'xMidYMid meet' },
      ticks.map((t) => svg('g', { class: 'grid' },
        svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(t), y2: y(t) }),
        svg('text', { x: PAD.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, duration(t)))),
      svg('text', { class: 'axis', x: PAD.left, y: H - 8 }, 'older'),
      svg('text', { class: 'axis', x: W - PAD.right, y: H - 8, 'text-anchor': 'end' }, 'newer'),
      series('lateness_ms', 'lateness', 'Lateness'),
      series('duration_ms', 'duration', 'Duration')),
    h('figcaption', {},
      h('span', { class: 'key key-duration', text: 'duration' }), ' ',
      h('span', { class: 'key key-lateness', text: 'lateness (started − scheduled)' }),
      h('span', { class: 'sr-only', text: summary })));
}
