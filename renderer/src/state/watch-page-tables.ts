// Snapshots carry the clients' page tables (4,096 rows at 64 clients, most of every
// snapshot) only while a view that shows them asks: this hook renews that lease while
// its view is open and a cluster runs. A failed renewal is not an error worth a notice:
// the next one comes a second later, and the view says when the tables are not in yet.
import { useEffect } from 'react';
import { PAGE_TABLES_LEASE_MS } from '../../../nodes/control/api.js';
import { useApp } from './context.js';
import { useStore } from './store.js';

export function useWatchPageTables(): void {
  const { api, store } = useApp();
  const running = useStore(store, (s) => s.snapshot?.running ?? false);
  useEffect(() => store.keepPageTables(), [store]);
  useEffect(() => {
    if (!running) return;
    const renew = (): void => void api.send({ cmd: 'watchPageTables' }).catch(() => undefined);
    renew();
    const timer = setInterval(renew, PAGE_TABLES_LEASE_MS / 3);
    return () => clearInterval(timer);
  }, [api, running]);
}
