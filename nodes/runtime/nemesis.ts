// The network nemesis inside one node: per-link rules applied to the frames this
// node SENDS (delay ± jitter, loss, duplication, partition). This module is the
// decision only, pure and deterministic: given the rules, a seeded random source and
// the time, it says for each frame whether it is dropped and when each copy leaves.
// The timers that carry the delayed copies out live in the shell (nemesis-router.ts).
//
// Order: on one link, copies leave in the order of their due times, ties in the
// order they were sent. Without jitter due times only grow, so the link stays FIFO
// (also across a rule change: a frame never overtakes one still held on its link);
// with jitter a later frame may be due first and overtake — jitter reorders, on purpose.
import { z } from 'zod';
import { NodeIdSchema } from '../protocol/messages.js';

export const MAX_NEMESIS_DELAY_MS = 60_000;

const probability = z.number().min(0, 'a probability must be in [0, 1]').max(1, 'a probability must be in [0, 1]');
const millis = z.number().min(0, 'a delay cannot be negative').max(MAX_NEMESIS_DELAY_MS, `a delay is at most ${MAX_NEMESIS_DELAY_MS} ms`);

/** What a rule does to every frame on its links (absent fields: no effect). */
export const LinkEffectSchema = z.object({
  /** Drop everything (a partition). */
  partition: z.boolean().default(false),
  /** Probability that a frame is lost. */
  loss: probability.default(0),
  /** Probability that a frame arrives twice. */
  dup: probability.default(0),
  /** Each copy leaves after delayMs ± jitterMs (uniform, never below 0). */
  delayMs: millis.default(0),
  jitterMs: millis.default(0),
});
export type LinkEffect = z.infer<typeof LinkEffectSchema>;

/** A rule as one node holds it: frames from this node to any of `to`. */
export const NodeLinkRuleSchema = LinkEffectSchema.extend({ to: z.array(NodeIdSchema).min(1).max(4096) });
export type NodeLinkRule = z.infer<typeof NodeLinkRuleSchema>;

/** The `nemesis` control command's body: the node's complete rule set (empty: heal) and its random seed. */
export const NodeNemesisSchema = z.object({ rules: z.array(NodeLinkRuleSchema).max(256), seed: z.number().int() });
export type NodeNemesis = z.infer<typeof NodeNemesisSchema>;

/** What the nemesis did to this node's outgoing frames (telemetry; apart from bad-input drops). */
export interface NemesisCounters {
  /** Dropped by a partition. */
  partitioned: number;
  /** Dropped by loss. */
  lost: number;
  /** Sent twice. */
  duplicated: number;
  /** Copies held back by a delay (or behind a held frame on the same link). */
  delayed: number;
}
export const NemesisCountersSchema = z.object({
  partitioned: z.number().int().min(0),
  lost: z.number().int().min(0),
  duplicated: z.number().int().min(0),
  delayed: z.number().int().min(0),
});

export const noEffect = (e: LinkEffect): boolean => !e.partition && e.loss === 0 && e.dup === 0 && e.delayMs === 0 && e.jitterMs === 0;

/** Several rules on one link act together: any partition cuts it, losses and duplications compound, delays add up. */
export function combineEffects(a: LinkEffect, b: LinkEffect): LinkEffect {
  return {
    partition: a.partition || b.partition,
    loss: 1 - (1 - a.loss) * (1 - b.loss),
    dup: 1 - (1 - a.dup) * (1 - b.dup),
    delayMs: Math.min(MAX_NEMESIS_DELAY_MS, a.delayMs + b.delayMs),
    jitterMs: Math.min(MAX_NEMESIS_DELAY_MS, a.jitterMs + b.jitterMs),
  };
}

/** The effective effect per destination of one node's rules (links without effect left out). */
export function compileRules(rules: readonly NodeLinkRule[], self: string): Map<string, LinkEffect> {
  const out = new Map<string, LinkEffect>();
  for (const r of rules) {
    const { to, ...effect } = r;
    for (const peer of to) {
      if (peer === self) continue;
      const before = out.get(peer);
      out.set(peer, before ? combineEffects(before, effect) : effect);
    }
  }
  for (const [peer, e] of out) if (noEffect(e)) out.delete(peer);
  return out;
}

/** A link's effect in the CLI's rule syntax (`m0>m1:loss=0.05:delay=3`), for the trace and its hover text. */
export function ruleText(from: string, to: string, e: LinkEffect): string {
  const opts: string[] = [];
  if (e.partition) opts.push('partition');
  if (e.loss > 0) opts.push(`loss=${+e.loss.toFixed(4)}`);
  if (e.dup > 0) opts.push(`dup=${+e.dup.toFixed(4)}`);
  if (e.delayMs > 0) opts.push(`delay=${+e.delayMs.toFixed(3)}`);
  if (e.jitterMs > 0) opts.push(`jitter=${+e.jitterMs.toFixed(3)}`);
  return `${from}>${to}:${opts.join(':')}`;
}

/** What the nemesis did to one frame, for its trace record: null when it left untouched. */
export type NemesisFate = null | ['drop' | 'dup' | 'delay', string];

/** The fate of a frame given decide()'s answer and the rule text of its link (pure; see NemesisEngine.decide). */
export function fateOf(due: readonly number[] | null, now: number, rule: string): NemesisFate {
  if (due === null) return null;
  if (due.length === 0) return ['drop', rule];
  if (due.length > 1) return ['dup', rule];
  return due[0]! > now ? ['delay', rule] : null;
}

/**
 * One node's nemesis: rules compiled per destination, counters, and per link the latest due
 * time handed out (FIFO without jitter, see the top of the file).
 */
export class NemesisEngine {
  readonly counters: NemesisCounters = { partitioned: 0, lost: 0, duplicated: 0, delayed: 0 };
  private links: Map<string, LinkEffect>;
  private readonly lastDue = new Map<string, number>();

  constructor(
    readonly self: string,
    rules: readonly NodeLinkRule[],
    private readonly random: () => number,
  ) {
    this.links = compileRules(rules, self);
  }

  /** New rules; counters and frames already held keep going. */
  setRules(rules: readonly NodeLinkRule[]): void {
    this.links = compileRules(rules, this.self);
  }

  /** The rule on the link to `to` as text (for the trace); a link with no rule any more holds frames behind earlier delayed ones. */
  ruleTo(to: string): string {
    const e = this.links.get(to);
    return e === undefined ? `${this.self}>${to}: behind a frame delayed earlier` : ruleText(this.self, to, e);
  }

  /** Whether any rule is in force. */
  get active(): boolean {
    return this.links.size > 0;
  }

  /**
   * The fate of one frame to `to` sent at `now` (ms): null = send it now, untouched; [] = dropped;
   * otherwise the due time (ms, same clock as `now`) of each copy to send, one or two.
   */
  decide(to: string, now: number): number[] | null {
    const e = this.links.get(to);
    const held = this.lastDue.get(to);
    if (e === undefined) {
      if (held === undefined) return null;
      if (held <= now) {
        this.lastDue.delete(to);
        return null;
      }
      // No rule on this link any more, but a frame is still held on it: queue behind it.
      this.counters.delayed++;
      return [held];
    }
    if (e.partition) {
      this.counters.partitioned++;
      return [];
    }
    if (e.loss > 0 && this.random() < e.loss) {
      this.counters.lost++;
      return [];
    }
    const copies = e.dup > 0 && this.random() < e.dup ? 2 : 1;
    if (copies === 2) this.counters.duplicated++;
    const due: number[] = [];
    for (let i = 0; i < copies; i++) due.push(this.dueOf(to, e, now, held));
    return due;
  }

  private dueOf(to: string, e: LinkEffect, now: number, held: number | undefined): number {
    let d = e.delayMs;
    if (e.jitterMs > 0) d = Math.max(0, d + (this.random() * 2 - 1) * e.jitterMs);
    let due = now + d;
    // Without jitter, never before a frame already held on this link (FIFO).
    const last = this.lastDue.get(to) ?? held;
    if (e.jitterMs === 0 && last !== undefined && last > due) due = last;
    if (due > now) {
      this.counters.delayed++;
      this.lastDue.set(to, Math.max(due, last ?? due));
    }
    return due;
  }
}
