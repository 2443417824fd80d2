// Telemetry's pace: unchanged for the clusters the scenarios and the UI tests run (≤ 50 clients), then
// slower in step with the cluster so the supervisor handles at most ~250 reports a second.
import { describe, expect, it } from 'vitest';
import { telemetryMsFor } from '../../nodes/control/supervisor.js';

describe('telemetry interval by cluster size', () => {
  it('is 200 ms up to 50 clients and keeps reports per second bounded above', () => {
    for (const n of [1, 3, 10, 32, 50]) expect(telemetryMsFor(n)).toBe(200);
    expect(telemetryMsFor(64)).toBe(256);
    expect(telemetryMsFor(128)).toBe(512);
    for (const n of [51, 64, 100, 128]) expect((n * 1000) / telemetryMsFor(n)).toBeLessThanOrEqual(250);
  });
});
