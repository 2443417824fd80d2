import { fmtDuration } from '../format.js';
import { useNow } from './clock.js';

export function Uptime({ since, testId }: { since: number | null; testId?: string }) {
  const now = useNow();
  if (since == null) return <span data-testid={testId}>–</span>;
  return (
    <span data-testid={testId} title={new Date(since).toLocaleString()}>
      {fmtDuration(Math.max(0, now - since))}
    </span>
  );
}
