// Connection status shared by both ClusterApi implementations, so the UI can say
// "reconnecting…" instead of silently showing a frozen picture.
export type ConnectionStatus =
  | { state: 'connecting'; message: string }
  | { state: 'open'; message: string }
  | { state: 'closed'; message: string };

export interface StatusSource {
  readonly status: ConnectionStatus;
  onStatus(listener: (status: ConnectionStatus) => void): () => void;
}
