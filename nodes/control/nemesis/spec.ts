// The network nemesis as a user states it (CLI, UI, scenarios): presets and link rules
// between groups of nodes. Groups name roles ("primary", "backup", the two halves of the
// clients…) and are resolved into node ids by the supervisor when the rules are applied,
// with the roles of that moment; the resolved rules stay on those nodes until the next
// apply or a heal (a failover does not move a partition onto the new primary).
import { z } from 'zod';
import { LinkEffectSchema, noEffect, type LinkEffect, type NodeLinkRule } from '../../runtime/nemesis.js';

import { NEMESIS_PRESETS, type NemesisPreset } from './presets.js';

export { NEMESIS_PRESETS, PRESET_DESCRIPTIONS, type NemesisPreset } from './presets.js';
export const NemesisPresetSchema = z.enum(NEMESIS_PRESETS, { error: (i) => `unknown nemesis preset ${JSON.stringify(i.input)}: expected one of ${NEMESIS_PRESETS.join(', ')}` });

/** For --help. */
export const NEMESIS_HELP =
  `comma-separated presets (${NEMESIS_PRESETS.join(', ')}) and link rules FROM>TO:opt… (one way) or FROM<>TO:opt… (both ways); ` +
  'FROM/TO a node id or group (primary, backup, managers, clients, half-a, half-b, all, others), several joined with +; ' +
  'opt: partition, loss=P, dup=P, delay=MS, jitter=MS (e.g. primary<>backup+half-a:partition)';

export const NEMESIS_GROUPS = ['primary', 'backup', 'managers', 'clients', 'half-a', 'half-b', 'all', 'others'] as const;
const groupOrId = z.union([
  z.enum(NEMESIS_GROUPS),
  z.string().regex(/^[mc]\d{1,4}$/, `a link end must be a node id (m0, c3) or one of ${NEMESIS_GROUPS.join(', ')}`),
]);

export const NemesisRuleSchema = LinkEffectSchema.extend({
  /** Frames sent by these… */
  from: z.array(groupOrId).min(1).max(256),
  /** …to these ("others": every node not in `from`). */
  to: z.array(groupOrId).min(1).max(256),
  /** Also the way back (to -> from). */
  symmetric: z.boolean().default(true),
}).refine((r) => !noEffect(r), 'a rule must do something: partition, loss, dup, delayMs or jitterMs');
export type NemesisRule = z.infer<typeof NemesisRuleSchema>;
export type NemesisRuleInput = z.input<typeof NemesisRuleSchema>;

export const NemesisSpecSchema = z.object({
  presets: z.array(NemesisPresetSchema).max(NEMESIS_PRESETS.length).default([]),
  rules: z.array(NemesisRuleSchema).max(64).default([]),
});
export type NemesisSpec = z.infer<typeof NemesisSpecSchema>;
export type NemesisSpecInput = z.input<typeof NemesisSpecSchema>;

const effect = (e: Partial<LinkEffect>): LinkEffect => ({ partition: false, loss: 0, dup: 0, delayMs: 0, jitterMs: 0, ...e });

/** The rules behind each preset, in groups (resolved like any rule). */
export function presetRules(p: NemesisPreset): NemesisRule[] {
  switch (p) {
    case 'isolate-primary-backup':
      return [{ from: ['primary'], to: ['backup'], symmetric: true, ...effect({ partition: true }) }];
    case 'isolate-primary':
      return [{ from: ['primary'], to: ['others'], symmetric: true, ...effect({ partition: true }) }];
    case 'split-clients':
      return [{ from: ['half-a'], to: ['half-b'], symmetric: true, ...effect({ partition: true }) }];
    case 'slow-client':
      return [{ from: ['c0'], to: ['others'], symmetric: true, ...effect({ delayMs: 30, jitterMs: 10 }) }];
    case 'lossy':
      return [{ from: ['all'], to: ['all'], symmetric: false, ...effect({ loss: 0.05, delayMs: 3, jitterMs: 2 }) }];
  }
}

/** Who is who at the moment rules are applied. */
export interface NemesisRoles {
  /** The manager serving now (null: none). */
  primary: string | null;
  /** The other live manager seat (null: none). */
  backup: string | null;
  managers: readonly string[];
  clients: readonly string[];
}

/** One resolved rule: concrete node ids, where it came from. */
export interface ResolvedRule extends LinkEffect {
  from: string[];
  to: string[];
  symmetric: boolean;
  /** The preset it came from, or "rule". */
  source: string;
}

/** The two halves of the clients: the first ceil(n/2) by number, and the rest. */
export function clientHalves(clients: readonly string[]): [string[], string[]] {
  const sorted = [...clients].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  const k = Math.ceil(sorted.length / 2);
  return [sorted.slice(0, k), sorted.slice(k)];
}

function resolveEnd(names: readonly string[], roles: NemesisRoles, other: readonly string[] | null, where: string): string[] {
  const all = [...roles.managers, ...roles.clients];
  const [a, b] = clientHalves(roles.clients);
  const out = new Set<string>();
  for (const n of names) {
    let ids: readonly string[];
    switch (n) {
      case 'primary':
        if (roles.primary === null) throw new Error(`${where}: "primary" names no node: no manager is serving now`);
        ids = [roles.primary];
        break;
      case 'backup':
        if (roles.backup === null) throw new Error(`${where}: "backup" names no node: the cluster has no backup manager (start it with a backup)`);
        ids = [roles.backup];
        break;
      case 'managers':
        ids = roles.managers;
        break;
      case 'clients':
        ids = roles.clients;
        break;
      case 'half-a':
      case 'half-b':
        if (roles.clients.length < 2) throw new Error(`${where}: "${n}" needs at least 2 clients to split`);
        ids = n === 'half-a' ? a : b;
        break;
      case 'all':
        ids = all;
        break;
      case 'others':
        if (other === null) throw new Error(`${where}: "others" can only be used in "to"`);
        ids = all.filter((id) => !other.includes(id));
        break;
      default:
        if (!all.includes(n)) throw new Error(`${where}: unknown node ${n} (nodes: ${all.join(', ')})`);
        ids = [n];
    }
    for (const id of ids) out.add(id);
  }
  return [...out];
}

/** Presets and rules into concrete rules; throws a clear error for a name that fits no node now. */
export function resolveNemesis(spec: NemesisSpec, roles: NemesisRoles): ResolvedRule[] {
  const tagged = [
    ...spec.presets.flatMap((p) => presetRules(p).map((r) => ({ r, source: p }))),
    ...spec.rules.map((r, i) => ({ r, source: `rule ${i + 1}` })),
  ];
  return tagged.map(({ r, source }) => {
    const from = resolveEnd(r.from, roles, null, `${source} from`);
    const to = resolveEnd(r.to, roles, from, `${source} to`);
    const { partition, loss, dup, delayMs, jitterMs, symmetric } = r;
    if (from.every((f) => to.every((t) => t === f))) throw new Error(`${source}: links no two different nodes`);
    return { from, to, symmetric, partition, loss, dup, delayMs, jitterMs, source: source.startsWith('rule') ? 'rule' : source };
  });
}

/** The roles a cluster of this shape starts with (to check a spec before any process starts). */
export function initialRoles(clients: number, backup: boolean): NemesisRoles {
  return { primary: 'm0', backup: backup ? 'm1' : null, managers: backup ? ['m0', 'm1'] : ['m0'], clients: Array.from({ length: clients }, (_, i) => `c${i}`) };
}

/** Each sender's own rules (what its `nemesis` command carries): one NodeLinkRule per resolved rule and direction. */
export function rulesPerNode(rules: readonly ResolvedRule[]): Map<string, NodeLinkRule[]> {
  const out = new Map<string, NodeLinkRule[]>();
  const add = (from: string, to: readonly string[], e: LinkEffect): void => {
    const peers = to.filter((t) => t !== from);
    if (peers.length === 0) return;
    let list = out.get(from);
    if (!list) out.set(from, (list = []));
    list.push({ to: peers, partition: e.partition, loss: e.loss, dup: e.dup, delayMs: e.delayMs, jitterMs: e.jitterMs });
  };
  for (const r of rules) {
    for (const f of r.from) add(f, r.to, r);
    if (r.symmetric) for (const t of r.to) add(t, r.from, r);
  }
  return out;
}

/** "m0 ⇹ m1 partition", "c0 → m0,m1 loss 5 %, 3±2 ms" */
export function describeRule(r: ResolvedRule): string {
  const parts: string[] = [];
  if (r.partition) parts.push('partition');
  if (r.loss > 0) parts.push(`loss ${+(r.loss * 100).toFixed(2)} %`);
  if (r.dup > 0) parts.push(`dup ${+(r.dup * 100).toFixed(2)} %`);
  if (r.delayMs > 0 || r.jitterMs > 0) parts.push(`${r.delayMs}${r.jitterMs > 0 ? `±${r.jitterMs}` : ''} ms`);
  const list = (ids: string[]): string => (ids.length > 6 ? `${ids.slice(0, 5).join(',')},…(${ids.length})` : ids.join(','));
  return `${list(r.from)} ${r.symmetric ? '⇄' : '→'} ${list(r.to)}: ${parts.join(', ')}${r.source !== 'rule' ? ` [${r.source}]` : ''}`;
}

/** A spec before resolution, in the CLI's own syntax: "isolate-primary, primary<>backup+half-a:partition". */
export function describeRuleSpec(spec: NemesisSpec): string {
  const rules = spec.rules.map((r) => {
    const opts = [
      ...(r.partition ? ['partition'] : []),
      ...(r.loss > 0 ? [`loss=${r.loss}`] : []),
      ...(r.dup > 0 ? [`dup=${r.dup}`] : []),
      ...(r.delayMs > 0 ? [`delay=${r.delayMs}`] : []),
      ...(r.jitterMs > 0 ? [`jitter=${r.jitterMs}`] : []),
    ];
    return `${r.from.join('+')}${r.symmetric ? '<>' : '>'}${r.to.join('+')}:${opts.join(':')}`;
  });
  return [...spec.presets, ...rules].join(',');
}

/** Two specs in force together. */
export function mergeSpecs(a: NemesisSpec, b: NemesisSpec): NemesisSpec {
  return { presets: [...new Set([...a.presets, ...b.presets])], rules: [...a.rules, ...b.rules] };
}

/**
 * The CLI's SPEC: comma-separated presets and link rules. A link rule is
 * `FROM>TO:opt:opt…` (one way) or `FROM<>TO:opt…` (both ways), FROM and TO a node id
 * or group, several joined with `+` (e.g. `primary<>backup+half-a:partition`);
 * options `partition`, `loss=P`, `dup=P`, `delay=MS`, `jitter=MS`.
 */
export function parseNemesisSpec(text: string): NemesisSpec {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new Error(`expected presets (${NEMESIS_PRESETS.join(', ')}) or link rules, comma-separated, got "${text}"`);
  const presets: string[] = [];
  const rules: unknown[] = [];
  for (const item of items) {
    const m = /^([^<>:]+)(<>|>)([^<>:]+)((?::[^:]+)*)$/.exec(item);
    if (!m) {
      if (presets.includes(item)) throw new Error(`nemesis preset "${item}" is listed twice`);
      presets.push(item);
      continue;
    }
    const rule: Record<string, unknown> = { from: m[1]!.split('+'), to: m[3]!.split('+'), symmetric: m[2] === '<>' };
    for (const opt of m[4]!.split(':').slice(1)) {
      const [k, v] = opt.split('=') as [string, string | undefined];
      const key = { partition: 'partition', loss: 'loss', dup: 'dup', delay: 'delayMs', jitter: 'jitterMs' }[k];
      if (!key) throw new Error(`rule "${item}": unknown option "${k}" (expected partition, loss=P, dup=P, delay=MS, jitter=MS)`);
      if (key === 'partition') {
        if (v !== undefined) throw new Error(`rule "${item}": partition takes no value`);
        rule.partition = true;
        continue;
      }
      const n = v === undefined || v.trim() === '' ? Number.NaN : Number(v);
      if (!Number.isFinite(n)) throw new Error(`rule "${item}": ${k} needs a number, got "${v ?? ''}"`);
      rule[key] = n;
    }
    rules.push(rule);
  }
  const parsed = NemesisSpecSchema.safeParse({ presets, rules });
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(i.path[0] === 'presets' ? i.message : `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`);
  }
  return parsed.data;
}
