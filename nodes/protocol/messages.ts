// Every message that crosses a ZeroMQ socket between nodes, as zod schemas.
// The schemas are the single source of truth: types are inferred from them and
// every incoming frame is validated against them before the core sees it.
import { z } from 'zod';
import { ISIS_MESSAGES } from './isis-messages.js';

/** Node ids: managers are m0 (primary seat) and m1 (backup seat), clients c0, c1, … */
export const NodeIdSchema = z.string().regex(/^[mc]\d{1,4}$/, 'node id must look like m0 or c12');
export type NodeId = z.infer<typeof NodeIdSchema>;

export const AccessSchema = z.enum(['none', 'read', 'write']);
export type Access = z.infer<typeof AccessSchema>;

/** Hard limits checked on every frame, before page-count checks that need the config. */
export const LIMITS = {
  maxPages: 65_536,
  maxPageSize: 1 << 20,
  maxFrameBytes: (1 << 20) + 4096,
  maxMembers: 4096,
} as const;

const u32 = z.number().int().min(0).max(0xffff_ffff);
/** Where a client keeps its pages (DESIGN §3): recoverable and durable ones come back after a crash. */
export const ClientMemorySchema = z.enum(['volatile', 'recoverable', 'durable']);
export type ClientMemory = z.infer<typeof ClientMemorySchema>;
const page = z.number().int().min(0).max(LIMITS.maxPages - 1);
const endpoint = z.string().max(256).regex(/^(tcp|ipc|inproc):\/\/\S+$/, 'endpoint must be a ZeroMQ address');

/** Fields every message carries: sender and the manager epoch the sender believes in. */
const head = { from: NodeIdSchema, epoch: u32 };
/** A fault is named by its requester and the requester's sequence number. */
const fault = { ...head, page, req: u32 };

export const MessageSchema = z.discriminatedUnion('t', [
  // client -> manager
  /** `incarnation` grows with every restart, so the manager can tell a rebooted client from a repeated hello. */
  /**
   * `memory` (absent: volatile) and `recovered`: pages a rebooted (or evicted) client holds from its page store,
   * not yet usable; the manager answers each with `restore` (restored, or stale: drop it).
   */
  z.object({
    t: z.literal('hello'),
    ...head,
    endpoint,
    incarnation: u32,
    /** How many hellos this incarnation has sent, this one included: it re-sends one after every evict it obeys. */
    n: u32.optional(),
    /**
     * The last request number this incarnation sent before this hello. Links need not be FIFO: a request
     * from before an evict may arrive after the hello that followed it, for a fault the client has dropped.
     */
    seq: u32.optional(),
    memory: ClientMemorySchema.optional(),
    recovered: z.array(z.object({ page, version: u32 })).max(LIMITS.maxPages).optional(),
  }),
  z.object({ t: z.literal('read_req'), ...fault }),
  z.object({ t: z.literal('write_req'), ...fault }),
  z.object({ t: z.literal('confirm'), ...fault, access: AccessSchema, version: u32 }),
  /** A copy holder confirms it dropped its copy for `requester`'s write. */
  z.object({ t: z.literal('inv_ack'), ...fault, requester: NodeIdSchema }),
  // manager -> client
  z.object({
    t: z.literal('members'),
    ...head,
    members: z.array(z.object({ id: NodeIdSchema, endpoint })).max(LIMITS.maxMembers),
    /**
     * The hello it welcomes (its `n`), when it answers one. A client counts itself listed only by the welcome
     * to its latest hello: an earlier one's may arrive first, and an earlier hello taken after it would be ignored.
     */
    n: u32.optional(),
  }),
  /**
   * `inc`: the incarnation of the client it is meant for. A frame queued for a client that died reaches its
   * successor at the same endpoint: that one must not act on it (it may hold a new copy, or a recovered one).
   */
  // `n`: that client's latest hello the manager had taken. A forward vouches for a recovered copy only if it
  // comes after the client's latest hello was taken (an earlier start-over's view of what it holds is stale).
  z.object({ t: z.literal('read_fwd'), ...fault, requester: NodeIdSchema, inc: u32.optional(), n: u32.optional() }),
  z.object({ t: z.literal('write_fwd'), ...fault, requester: NodeIdSchema, inc: u32.optional(), n: u32.optional() }),
  z.object({ t: z.literal('invalidate'), ...fault, requester: NodeIdSchema, inc: u32.optional(), n: u32.optional() }),
  /** The manager answers a fault itself: a zero page nobody owned, or an owner's upgrade. */
  z.object({ t: z.literal('grant'), ...fault, access: AccessSchema, zero: z.boolean() }),
  z.object({ t: z.literal('nack'), ...fault, reason: z.string().max(200) }),
  /** The old owner died: this read-copy holder now holds the authoritative copy. */
  z.object({ t: z.literal('own'), ...head, page, version: u32 }),
  /**
   * The manager declared this client dead (it stopped hearing from it): drop every page and start over.
   * `inc` and `n`: the client's latest hello the manager had taken when it sent this. An evict from before
   * a hello the client has since sent is stale (that hello already started it over) and is ignored.
   */
  z.object({ t: z.literal('evict'), ...head, reason: z.string().max(200), inc: u32.optional(), n: u32.optional() }),
  /** After a takeover: the page sent for this request before the takeover is genuine; install it. */
  z.object({ t: z.literal('resume'), ...fault }),
  /** The verdict on a recovered page: `keep` makes the client its owner again; otherwise the copy is stale and dropped. */
  /** `n`: the hello (or report) it answers. A verdict on an earlier one is stale: the later one is judged afresh. */
  z.object({ t: z.literal('restore'), ...head, page, version: u32, keep: z.boolean(), n: u32.optional() }),
  /**
   * The write transfer this client served for `req` to `requester` never completed (the requester crashed
   * without the page): take the copy it gave away back, as the owner.
   */
  /**
   * `unsent`: the requester crashed and may have written the page (volatile memory): take it back only if
   * the page was never sent (the forward was lost on the way); a forward for that request is void from now on.
   */
  z.object({ t: z.literal('reclaim'), ...fault, requester: NodeIdSchema, unsent: z.boolean().optional() }),
  /** Answer to `reclaim`: `ok` when the client owns the page again (at `version`); a forward for that request is void from now on. */
  z.object({ t: z.literal('reclaimed'), ...fault, requester: NodeIdSchema, ok: z.boolean(), version: u32 }),
  /** A manager taking over with a new epoch asks every client for its page table. */
  /** `n` numbers the takeover (re-sent while it runs): a report names the one it answers, so the candidate counts its vote from that send. */
  /** `firm`: the old primary is out of the way (its process died, or it is our backup now): adopt at once, whatever you promised it. */
  z.object({ t: z.literal('takeover'), ...head, n: u32.optional(), firm: z.boolean().optional() }),
  /**
   * The serving manager knows the client that sent heartbeat `n`: it may serve hits for `ms` after it SENT
   * that heartbeat (its own clock), since the manager evicts it only after a longer silence (client leases).
   */
  z.object({ t: z.literal('hb_ack'), ...head, n: u32, ms: u32 }),

  // client -> manager (fault tolerance)
  /**
   * `n` (optional): a lease request; the serving manager answers it with `hb_ack` carrying the same `n`.
   * `v`: the `hb_ack` this client last had from the manager it follows, echoed as a vote (quorum.ts): it
   * promised not to help another manager to authority for a while from receiving it. `w`: how long (ms) its
   * promise to another manager still runs (absent: none); the vote counts only after that, unless that
   * manager's process is known to have died.
   */
  z.object({ t: z.literal('hb'), ...head, n: u32.optional(), v: u32.optional(), w: u32.optional() }),
  /** A client's page table, the ground truth a new primary rebuilds its records from. */
  z.object({
    t: z.literal('report'),
    ...head,
    endpoint,
    incarnation: u32,
    pages: z
      .array(
        z.object({
          page,
          access: AccessSchema,
          owner: z.boolean(),
          version: u32,
          /** The last forward this client served for the page: a transfer that may still be in flight. */
          served: z.object({ to: NodeIdSchema, req: u32, kind: z.enum(['read', 'write']) }).nullable(),
        }),
      )
      .max(LIMITS.maxPages),
    pending: z.array(z.object({ page, req: u32, kind: z.enum(['read', 'write']) })).max(LIMITS.maxPages),
    /** The client's hello count when it reported: a report sent before a later hello is stale. */
    n: u32.optional(),
    memory: ClientMemorySchema.optional(),
    /** Recovered pages still waiting for a verdict (see hello). */
    recovered: z.array(z.object({ page, version: u32 })).max(LIMITS.maxPages).optional(),
    /** The takeover (its `n`) this report answers, and how long (ms) this client's promise to another manager still runs: its vote counts after that. */
    tn: u32.optional(),
    wait: u32.optional(),
  }),
  /** "Your epoch is not newer than mine": tells a deposed or too-modest manager the epoch to beat. */
  z.object({ t: z.literal('epoch_reject'), ...head, seen: u32 }),

  // manager <-> manager
  /** `n` numbers the ping; a backup's mpong echoes it as a vote: no takeover by it for a while (quorum.ts). */
  z.object({ t: z.literal('mping'), ...head, role: z.enum(['primary', 'backup', 'candidate', 'rejoining']), n: u32.optional() }),
  z.object({ t: z.literal('mpong'), ...head, role: z.enum(['primary', 'backup', 'candidate', 'rejoining']), n: u32.optional() }),
  /** Primary -> backup: records that changed (all of them when `full`), and the client list. */
  z.object({
    t: z.literal('sync'),
    ...head,
    full: z.boolean(),
    records: z
      .array(
        z.object({
          page,
          owner: NodeIdSchema.nullable(),
          lostWith: NodeIdSchema.nullable(),
          /** The only copy is with this client, which is down but keeps its pages (recoverable memory). */
          heldBy: NodeIdSchema.nullable().optional(),
          copyset: z.array(NodeIdSchema).max(LIMITS.maxMembers),
          version: u32,
          /** A first-touch (zero page) grant to this request is not confirmed yet: the page may hold its writes. */
          granted: z.object({ to: NodeIdSchema, req: u32 }).nullable().optional(),
        }),
      )
      .max(LIMITS.maxPages),
    clients: z.array(z.object({ id: NodeIdSchema, endpoint, incarnation: u32, memory: ClientMemorySchema.optional() })).max(LIMITS.maxMembers),
    /** The epoch whose serving primary made these records (a backup or candidate passes on a replica of an older one). */
    of: u32.optional(),
  }),
  /** A rebooted home primary asks the serving manager to step down (the seed's behaviour). */
  /** Numbered like pings: the `handback_ok` echoes the number as the (now backup) peer's vote for the home seat. */
  z.object({ t: z.literal('handback_req'), ...head, n: u32.optional() }),
  z.object({ t: z.literal('handback_ok'), ...head, n: u32.optional() }),

  // client -> client
  z.object({
    t: z.literal('page_data'),
    ...fault,
    access: AccessSchema,
    version: u32,
    data: z.instanceof(Uint8Array).refine((d) => d.byteLength <= LIMITS.maxPageSize, 'page data too large'),
  }),

  // write-update (ISIS total order): isis-messages.ts
  ...ISIS_MESSAGES,
]);

export type Message = z.infer<typeof MessageSchema>;
export type MessageType = Message['t'];
export type MessageOf<T extends MessageType> = Extract<Message, { t: T }>;
export const MESSAGE_TYPES = MessageSchema.options.map((o) => o.shape.t.value) as readonly MessageType[];
