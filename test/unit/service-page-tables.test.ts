import { afterEach, describe, expect, it, vi } from 'vitest';
import { PAGE_TABLES_LEASE_MS } from '../../nodes/control/api.js';
import { ClusterService } from '../../nodes/control/service.js';

describe('ClusterService: page tables in snapshots only while a view watches them', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('leaves them out until asked, keeps them for the lease, and drops them when it is not renewed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const s = new ClusterService();
    expect(s.snapshot().pageTables).toBeUndefined();
    await expect(s.handle({ cmd: 'watchPageTables' })).resolves.toEqual({ ok: true });
    expect(s.snapshot().pageTables).toEqual({});
    vi.setSystemTime(1_000_000 + PAGE_TABLES_LEASE_MS - 1);
    expect(s.snapshot().pageTables).toEqual({});
    await s.handle({ cmd: 'watchPageTables' }); // renewed by the open view
    vi.setSystemTime(1_000_000 + 2 * PAGE_TABLES_LEASE_MS - 2);
    expect(s.snapshot().pageTables).toEqual({});
    vi.setSystemTime(1_000_000 + 2 * PAGE_TABLES_LEASE_MS);
    expect(s.snapshot().pageTables).toBeUndefined();
    await s.close();
  });
});
