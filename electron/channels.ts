// IPC channel names shared by the preload script and the main process.
export const CHANNELS = {
  /** renderer -> main (invoke): a ClusterApi command; answers a CommandReply. */
  command: 'ivy:command',
  /** renderer -> main (invoke): start receiving pushes on `push`. */
  subscribe: 'ivy:subscribe',
  /** main -> renderer: one ServerPush. */
  push: 'ivy:push',
  /** renderer -> main (invoke): `{ csv, name }`; answers `{ ok, value: path | null }`. */
  saveCsv: 'ivy:save-csv',
  /** renderer -> main (invoke): `{ jsonl, name }`; answers `{ ok, value: path | null }`. */
  saveHistory: 'ivy:save-history',
} as const;
