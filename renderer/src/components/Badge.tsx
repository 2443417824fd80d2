import type { NodeRole, NodeState } from '../../../nodes/control/api.js';

const STATE_ICON: Record<NodeState, string> = {
  starting: '◔',
  up: '●',
  down: '✕',
  stopped: '■',
  rebooting: '↻',
};

export function StateBadge({ state, testId }: { state: NodeState; testId?: string }) {
  return (
    <span className={`badge state-${state}`} data-testid={testId} data-state={state}>
      <span aria-hidden="true">{STATE_ICON[state]} </span>
      {state}
    </span>
  );
}

const ROLE_TITLE: Partial<Record<NodeRole, string>> = {
  candidate: 'Taking over: collecting the clients\' page tables',
  rejoining: 'A rebooted home primary asking for its role back',
};

export function RoleBadge({ role, testId }: { role: NodeRole; testId?: string }) {
  return (
    <span className={`badge role-${role}`} data-testid={testId} data-role={role} title={ROLE_TITLE[role]}>
      {role}
    </span>
  );
}

export function AccessBadge({ access }: { access: 'none' | 'read' | 'write' }) {
  return <span className={`badge access-${access}`}>{access}</span>;
}
