// The op cycle both rotating paths of the bench run (the protocol path and the fair
// bare path): the page's ownership moves through the clients so that every op is a
// fault of a known shape, and each fault wakes a requester and an owner that idled
// through the ops before it:
//   read + write(1 copy): the next client reads (forwarded to the owner), the one
//                         after writes (invalidates that reader, forwarded to the owner);
//   write(0 copies):      the next client writes (forwarded to the owner);
//   write(9 copies):      nine clients read, the next one writes (nine invalidations).

export interface Samples {
  read: number[];
  write0: number[];
  write1: number[];
  write9: number[];
}

export const emptySamples = (): Samples => ({ read: [], write0: [], write1: [], write9: [] });

export interface OpOutcome {
  ok: boolean;
  fault: boolean;
  startNs: number;
  endNs: number;
  error?: string;
}

/** Runs one op on client `client` (index) and resolves with the client's own timing. */
export type OpDriver = (client: number, kind: 'read' | 'write', page: number) => Promise<OpOutcome>;

/** An owner, nine readers and a writer. */
export const ROTATION_CLIENTS = 11;
const PAGE = 0;

export class Rotation {
  private owner = 0;
  /** Ops that came back as a hit where the cycle expects a fault (should stay 0). */
  anomalies = 0;

  constructor(
    private readonly run: OpDriver,
    private readonly label: string,
  ) {}

  /** First touch: the manager grants a zero page to client 0, no forward. */
  async firstTouch(): Promise<void> {
    await this.op('write', 0, null);
  }

  /** Read by the next client, then a write that invalidates that one copy. */
  async readThenWrite1(into: Samples | null): Promise<void> {
    const reader = this.next(1);
    const writer = this.next(2);
    await this.op('read', reader, into?.read ?? null);
    await this.op('write', writer, into?.write1 ?? null);
    this.owner = writer;
  }

  async write0(into: Samples | null): Promise<void> {
    const writer = this.next(1);
    await this.op('write', writer, into?.write0 ?? null);
    this.owner = writer;
  }

  async write9(into: Samples | null): Promise<void> {
    for (let i = 1; i <= 9; i++) await this.op('read', this.next(i), null);
    const writer = this.next(10);
    await this.op('write', writer, into?.write9 ?? null);
    this.owner = writer;
  }

  /** One block of the cycle: the same order of kinds on every path. */
  async block(n: number, into: Samples | null): Promise<void> {
    for (let i = 0; i < n; i++) {
      await this.readThenWrite1(into);
      await this.write0(into);
      await this.write9(into);
    }
  }

  private next(k: number): number {
    return (this.owner + k) % ROTATION_CLIENTS;
  }

  private async op(kind: 'read' | 'write', client: number, into: number[] | null): Promise<void> {
    const done = await this.run(client, kind, PAGE);
    if (!done.ok || !done.fault) {
      this.anomalies++;
      if (!done.ok) throw new Error(`${this.label} c${client} ${kind} failed: ${done.error ?? 'unknown error'}`);
      return;
    }
    into?.push((done.endNs - done.startNs) / 1000);
  }
}
