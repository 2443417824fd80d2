// The nemesis presets by name (DESIGN §6 `--nemesis`), free of zod so the UI can list them cheaply.
export const NEMESIS_PRESETS = ['isolate-primary-backup', 'isolate-primary', 'split-clients', 'slow-client', 'lossy'] as const;
export type NemesisPreset = (typeof NEMESIS_PRESETS)[number];

/** One-line descriptions (CLI help, UI buttons' titles). */
export const PRESET_DESCRIPTIONS: Record<NemesisPreset, string> = {
  'isolate-primary-backup': 'partition the serving primary from the backup (both still reach every client)',
  'isolate-primary': 'partition the serving primary from every other node',
  'split-clients': 'partition the first half of the clients from the second half',
  'slow-client': 'c0: 30 ms ± 10 ms on every link to and from it',
  lossy: '5 % loss and 1–5 ms delay (3 ± 2 ms) on every link',
};
