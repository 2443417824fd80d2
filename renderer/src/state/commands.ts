// Sends a command and reports the outcome: a button shows it is busy while its
// command is in flight, and any error becomes a visible notice (never silence).
import { useCallback, useState } from 'react';
import type { Command, CommandReply } from '../../../nodes/control/api.js';
import { useApp } from './context.js';

export function describe(command: Command): string {
  switch (command.cmd) {
    case 'killNode':
      return `Kill ${command.id}`;
    case 'stopNode':
      return `Stop ${command.id}`;
    case 'rebootNode':
      return `Reboot ${command.id}`;
    case 'startCluster':
      return 'Start cluster';
    case 'stopCluster':
      return 'Stop cluster';
    case 'addClient':
      return 'Add client';
    case 'setWorkload':
      return command.workload ? 'Start workload' : 'Stop workload';
    case 'runScenario':
      return 'Run scenarios';
    case 'cancelScenario':
      return 'Cancel scenarios';
    case 'timingCsv':
      return 'Timing CSV';
    case 'checkHistory':
      return 'Check history';
    case 'exportHistory':
      return 'Export history';
    case 'watchPageTables':
      return 'Watch page tables';
    case 'setTracing':
      return command.on ? 'Trace messages' : 'Stop tracing';
    case 'exportTrace':
      return 'Export trace';
    case 'runOp':
      return `${command.kind === 'read' ? 'Read' : 'Write'} page ${command.page} on ${command.client}`;
    case 'setNemesis':
      return 'Apply network rules';
    case 'healAll':
      return 'Heal all';
  }
}

export function useCommand(): {
  run: (command: Command, key?: string) => Promise<CommandReply>;
  busy: (key: string) => boolean;
} {
  const { api, store } = useApp();
  const [inFlight, setInFlight] = useState<ReadonlySet<string>>(() => new Set());
  const run = useCallback(
    async (command: Command, key: string = command.cmd): Promise<CommandReply> => {
      setInFlight((s) => new Set(s).add(key));
      let reply: CommandReply;
      try {
        reply = await api.send(command);
      } catch (err) {
        reply = { ok: false, error: (err as Error).message || String(err) };
      }
      setInFlight((s) => {
        const n = new Set(s);
        n.delete(key);
        return n;
      });
      if (!reply.ok) store.notify('error', `${describe(command)} failed: ${reply.error}`);
      return reply;
    },
    [api, store],
  );
  const busy = useCallback((key: string) => inFlight.has(key), [inFlight]);
  return { run, busy };
}
