export declare const TICK_MS: number;
export interface ThreadCpu {
  main: number;
  zmq: number;
  other: number;
  total: number;
  user: number;
  sys: number;
}
export declare function threadCpu(pid: number): ThreadCpu | null;
export interface ThreadWakeups {
  main: number;
  zmq: number;
  other: number;
}
export declare function threadWakeups(pid: number): ThreadWakeups | null;
