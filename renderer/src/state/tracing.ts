// Message tracing in the running cluster is on while a view that needs it is open (Messages,
// and Network: what the nemesis drops and the fencing it causes are drawn in the Messages view
// only if the frames were traced when it happened). Views hold it; the last to close turns it
// off, a moment later, so moving from one such view to the other leaves no untraced gap (a
// frame traced as sent but not as received would look lost).
import { useEffect } from 'react';
import type { ClusterApi } from '../../../nodes/control/api.js';

let holders = 0;
let offTimer: ReturnType<typeof setTimeout> | null = null;

export function useTracing(api: ClusterApi, running: boolean): void {
  useEffect(() => {
    if (!running) return;
    holders++;
    if (offTimer !== null) clearTimeout(offTimer);
    offTimer = null;
    void api.send({ cmd: 'setTracing', on: true }); // idempotent: a node already tracing keeps its clock
    return () => {
      holders--;
      if (holders > 0) return;
      offTimer = setTimeout(() => {
        offTimer = null;
        if (holders === 0) void api.send({ cmd: 'setTracing', on: false });
      }, 0);
    };
  }, [api, running]);
}
