import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Tick } from '../types';

/** Recent ticks: duration (ms, left axis) and actions attempted/succeeded (right axis). */
export function TickChart({ ticks }: { ticks: Tick[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data: uPlot.AlignedData = [
      ticks.map((t) => new Date(t.finished_at_utc).getTime() / 1000),
      ticks.map(
        (t) => new Date(t.finished_at_utc).getTime() - new Date(t.started_at_utc).getTime(),
      ),
      ticks.map((t) => t.actions_attempted),
      ticks.map((t) => t.actions_succeeded),
    ];
    const width = Math.max(260, el.clientWidth - 8);
    if (!plot.current) {
      plot.current = new uPlot(
        {
          width,
          height: 200,
          scales: { ms: {}, n: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          axes: [
            {},
            { scale: 'ms', label: 'ms' },
            { scale: 'n', side: 1, label: 'actions', grid: { show: false } },
          ],
          series: [
            {},
            { label: 'duration ms', scale: 'ms', stroke: '#2563eb', width: 2 },
            { label: 'attempted', scale: 'n', stroke: '#d97706' },
            { label: 'succeeded', scale: 'n', stroke: '#16a34a' },
          ],
        },
        data,
        el,
      );
    } else {
      plot.current.setSize({ width, height: 200 });
      plot.current.setData(data);
    }
  }, [ticks]);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(260, el.clientWidth - 8), height: 200 }),
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
    };
  }, []);
  return (
    <section class="card wide" aria-labelledby="ticks-h">
      <h2 id="ticks-h">Recent ticks</h2>
      <div
        ref={box}
        data-testid="tick-chart"
        role="img"
        aria-label={`chart of the last ${ticks.length} ticks`}
      />
    </section>
  );
}
