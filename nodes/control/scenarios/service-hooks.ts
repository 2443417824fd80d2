// Scenarios for the UIs: the ClusterService (Electron and `ivy-cluster serve`) runs a
// scenario request through these hooks. Each scenario's cluster is shown live while
// it runs; progress and the final results (tables, CSV with the protocol column, each
// history's check: linearizability for IVY, sequential consistency for write-update)
// are pushed.
import { scenarioHistoryKey, type ClusterService, type ScenarioHooks } from '../service.js';
import { resolveScenarios } from './definitions.js';
import { runScenarios } from './runner.js';

export interface ScenarioHookOptions {
  /** First port of a UI run (scenario k uses base + 200k); apart from the service's own cluster at 7000. */
  basePort?: number;
  opTimeoutMs?: number;
  rounds?: number;
}

export function scenarioHooks(opts: ScenarioHookOptions = {}): ScenarioHooks {
  return {
    async run(service: ClusterService, request, signal): Promise<void> {
      const outcome = await runScenarios({
        scenarios: resolveScenarios(request.scenarios),
        protocols: request.protocols,
        clients: request.clients,
        pages: request.pages,
        ...(request.trials !== undefined ? { trials: request.trials } : {}),
        seed: request.seed,
        ...(request.clientMemory ? { clientMemory: request.clientMemory } : {}),
        slowest: request.traceSlowest,
        basePort: opts.basePort ?? 7200,
        opTimeoutMs: opts.opTimeoutMs ?? 5000,
        mode: { kind: 'rounds', rounds: opts.rounds ?? 20, warmupRounds: 2 },
        signal,
        onProgress: (progress) => service.push({ type: 'scenarioProgress', progress }),
        onNote: (id, message) => service.push({ type: 'event', event: { t: Date.now(), level: 'info', kind: 'scenario', message: `${id}: ${message}` } }),
        onCluster: (sup) => service.attach(sup, sup.config),
        onClusterDone: (sup) => service.detach(sup),
      });
      service.lastCsv = outcome.csv;
      service.setScenarioHistories(new Map(outcome.runs.map((r) => [scenarioHistoryKey(r.def.id, r.protocol), r.ops])));
      const ivyRan = outcome.runs.some((r) => r.protocol === 'ivy');
      service.push({
        type: 'scenarioResult',
        results: outcome.runs.map((r) => r.result),
        csv: outcome.csv,
        linearizable: ivyRan ? outcome.linearizable : null,
        consistent: outcome.consistent,
      });
    },
  };
}
