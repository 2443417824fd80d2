// One line of a trace file (DESIGN §6, `--trace FILE`), JSON Lines:
// {"node":"c3","dir":"send","peer":"m0","t":…,"type":"read_req","page":2,"req":17,"epoch":1,"vc":{"c3":12,"m0":9}}
// Extensions (additive): `frame` names the frame ("<sender>:<sender's own count at the send>"),
// the same on its send and on its receive, so the two ends of an arrow are matched exactly;
// `requester`, `view`, `seq` where the message has them; `run` separates the clusters of a
// scenario run (each its own execution, with its own clocks).
// `nemesis` on a send: what the network nemesis did to the frame — `drop` (it never arrives: a
// partition or loss), `dup` (it arrives twice: two receives with the same `frame`) or `delay` (held
// back) — with `rule`, the link's rule in the CLI's syntax ("m0>m1:partition"). `refused` on a
// receive: the node refused the frame, with the core's reason ("stale epoch 3 < 4": a fenced
// manager's frame). Readers that do not know these fields see a send with no receive, as before.
import { z } from 'zod';
import { NodeIdSchema } from '../../protocol/messages.js';

const count = z.number().int().min(0).max(0xffff_ffff);
// hrtime nanoseconds may exceed 2^53 after ~104 days of uptime: any non-negative integer-valued number.
const nanos = z.number().refine((n) => Number.isInteger(n) && n >= 0, { message: 'expected a non-negative integer (nanoseconds)' });

export const TraceRecordSchema = z
  .object({
    node: NodeIdSchema,
    dir: z.enum(['send', 'recv']),
    peer: NodeIdSchema,
    t: nanos,
    type: z.string().min(1).max(32),
    page: count.optional(),
    req: count.optional(),
    requester: NodeIdSchema.optional(),
    view: count.optional(),
    seq: count.optional(),
    epoch: count,
    frame: z
      .string()
      .regex(/^[mc]\d{1,4}:\d+$/, 'frame must look like c3:12')
      .optional(),
    run: z.string().min(1).max(100).optional(),
    nemesis: z.enum(['drop', 'dup', 'delay']).optional(),
    rule: z.string().min(1).max(160).optional(),
    refused: z.string().min(1).max(160).optional(),
    vc: z.record(NodeIdSchema, count.min(1)),
  })
  .superRefine((r, ctx) => {
    // The event's own node is in its clock (ShiViz requires it too).
    if (!r.vc[r.node]) ctx.addIssue({ code: 'custom', path: ['vc'], message: `the clock has no entry for the event's own node ${r.node}` });
    if ((r.nemesis !== undefined || r.rule !== undefined) && r.dir !== 'send') ctx.addIssue({ code: 'custom', path: ['nemesis'], message: 'nemesis and rule belong on a send' });
    if ((r.nemesis === undefined) !== (r.rule === undefined)) ctx.addIssue({ code: 'custom', path: ['rule'], message: 'nemesis and rule come together' });
    if (r.refused !== undefined && r.dir !== 'recv') ctx.addIssue({ code: 'custom', path: ['refused'], message: 'refused belongs on a receive' });
  });

export type TraceRecord = z.infer<typeof TraceRecordSchema>;

export const traceLine = (r: TraceRecord): string => `${JSON.stringify(r)}\n`;
