import { memo, useLayoutEffect, useMemo, useRef } from 'react';
import { uptimeTicker } from './clock.js';

/**
 * How long since `since`, ticking every second. React renders the element once (and
 * again only when since changes); the text is the shared ticker's (clock.ts), written
 * before the first paint.
 */
export const Uptime = memo(function Uptime({ since, testId }: { since: number | null; testId?: string }) {
  const ref = useRef<HTMLSpanElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (since == null) {
      el.textContent = '–';
      return;
    }
    return uptimeTicker().watch(el, since);
  }, [since]);
  const title = useMemo(() => (since == null ? undefined : new Date(since).toLocaleString()), [since]);
  return <span ref={ref} className="uptime" data-testid={testId} data-since={since ?? undefined} title={title} />;
});
