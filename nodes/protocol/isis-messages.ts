// The frames of the write-update protocol (ISIS total order, seed 002), as zod schemas.
// They join the one MessageSchema union (messages.ts), so the codec and the bad-input
// counters treat them like IVY frames. Every ordering frame names the view it belongs
// to; every array and byte string is bounded.
import { z } from 'zod';

/** Bounds shared with messages.ts (kept here so this file has no import cycle). */
export const ISIS_LIMITS = {
  maxPages: 65_536,
  maxPageSize: 1 << 20,
  maxMembers: 4096,
  /** Messages one member may report in a flush (its undelivered queue). */
  maxQueue: 4096,
  /** Bytes of page data in one state-transfer chunk: well under the frame limit. */
  stateChunkBytes: 512 * 1024,
} as const;

const nodeId = z.string().regex(/^[mc]\d{1,4}$/, 'node id must look like m0 or c12');
const u32 = z.number().int().min(0).max(0xffff_ffff);
const page = z.number().int().min(0).max(ISIS_LIMITS.maxPages - 1);
const endpoint = z.string().max(256).regex(/^(tcp|ipc|inproc):\/\/\S+$/, 'endpoint must be a ZeroMQ address');
/** Typed as a plain Uint8Array (any backing buffer): the cores keep slices of replicas and frames alike. */
const bytes = z.custom<Uint8Array>((d) => d instanceof Uint8Array, 'expected bytes').refine((d) => d.byteLength <= ISIS_LIMITS.maxPageSize, 'data too large');
/** A priority: [counter, proposer number] (c12 proposes with 12), compared lexicographically. */
export const PrioSchema = z.tuple([u32, u32]);
const head = { from: nodeId, epoch: u32 };
/** View numbers: epoch * 1e6 + n, so every registry (and every takeover) issues its own. */
const view = u32;

export const IsisMemberSchema = z.object({ id: nodeId, endpoint, incarnation: u32 });

/** One message decided by a view change: delivered at `prio` by every member that has not delivered it. */
export const DecisionSchema = z.object({ sender: nodeId, seq: u32, page, offset: u32, data: bytes, prio: PrioSchema });
/** The messages of one view that its closing delivers, in priority order. */
export const ClosingSchema = z.object({ view, decisions: z.array(DecisionSchema).max(ISIS_LIMITS.maxQueue * 4) });

const installBody = {
  view,
  members: z.array(IsisMemberSchema).max(ISIS_LIMITS.maxMembers),
  /** Closings of every view a member of the new view may still be in, oldest first. */
  closings: z.array(ClosingSchema).max(64),
  /** The member that sends the joiners their state once the view is committed (null: no member has state). */
  donor: nodeId.nullable(),
  joiners: z.array(nodeId).max(ISIS_LIMITS.maxMembers),
};
export const InstallBodySchema = z.object(installBody);

export const ISIS_MESSAGES = [
  // member -> registry
  /** `evictions`: how often this incarnation was put out of a view, so a late copy of an earlier join is told apart. */
  z.object({ t: z.literal('i_join'), ...head, endpoint, incarnation: u32, evictions: u32 }),
  /** `view`: the member's committed view; `prepared`: the highest it prepared for; `pos`: its delivered position. */
  z.object({ t: z.literal('i_hb'), ...head, incarnation: u32, view, prepared: view, pos: u32 }),
  z.object({
    t: z.literal('i_flush'),
    ...head,
    /** The view being prepared. */
    view,
    incarnation: u32,
    /** The last view this member committed (0: none) and whether it holds the replicated state. */
    installed: view,
    hasState: z.boolean(),
    pos: u32,
    /** Undelivered messages of the installed view; `agreed` false = only proposed. */
    queue: z
      .array(z.object({ sender: nodeId, seq: u32, page, offset: u32, data: bytes, prio: PrioSchema, agreed: z.boolean() }))
      .max(ISIS_LIMITS.maxQueue),
    /** The last install this member received (committed or not): lets a new registry finish an interrupted one. */
    lastInstall: InstallBodySchema.nullable(),
    /**
     * The highest view this incarnation ever installed (kept across evictions, unlike lastInstall): an install
     * above it can never be committed any more (this member prepared past it), so it binds no quorum.
     */
    maxInstalled: view.optional(),
  }),
  z.object({ t: z.literal('i_installed'), ...head, view }),
  // registry -> member
  z.object({ t: z.literal('i_prepare'), ...head, view, members: z.array(IsisMemberSchema).max(ISIS_LIMITS.maxMembers) }),
  z.object({ t: z.literal('i_install'), ...head, ...installBody }),
  /** Every member installed `view`: apply its closings and start ordering in it. */
  z.object({ t: z.literal('i_commit'), ...head, view }),
  /** "You are not in `view`": a member in an older view starts over; one in that view or newer ignores it. */
  z.object({ t: z.literal('i_evict'), ...head, view, reason: z.string().max(200) }),
  // member -> member (ordering, all within `view`)
  z.object({ t: z.literal('i_msg'), ...head, view, seq: u32, page, offset: u32, data: bytes }),
  z.object({ t: z.literal('i_propose'), ...head, view, seq: u32, prio: PrioSchema }),
  z.object({ t: z.literal('i_agreed'), ...head, view, seq: u32, prio: PrioSchema }),
  /** "I hold your message agreed": once every member has, it is stable and may be delivered. */
  z.object({ t: z.literal('i_ack'), ...head, view, seq: u32 }),
  z.object({ t: z.literal('i_stable'), ...head, view, seq: u32 }),
  /** A member waiting on a message asks its sender where it stands; the sender re-sends agreed / stable. */
  z.object({ t: z.literal('i_query'), ...head, view, seq: u32 }),
  /** State transfer at the cut of `view`: one chunk of pages, each with the position of its last write. */
  z.object({
    t: z.literal('i_state'),
    ...head,
    view,
    pos: u32,
    /** Priority of the donor's last delivery in `view` (null: none yet): the joiner drops what the state already holds. */
    last: PrioSchema.nullable(),
    part: u32,
    parts: z.number().int().min(1).max(ISIS_LIMITS.maxPages),
    pages: z.array(z.object({ page, wpos: u32, data: bytes })).max(ISIS_LIMITS.maxPages),
  }),
  /** A joiner whose state transfer was lost asks the donor again. */
  z.object({ t: z.literal('i_state_req'), ...head, view }),
  // registry <-> registry
  z.object({ t: z.literal('i_ping'), ...head, role: z.enum(['primary', 'backup', 'candidate', 'rejoining']), view }),
  z.object({ t: z.literal('i_sync'), ...head, view, members: z.array(IsisMemberSchema).max(ISIS_LIMITS.maxMembers), known: z.array(IsisMemberSchema).max(ISIS_LIMITS.maxMembers) }),
] as const;
