export declare const NODE_BUNDLE: Record<string, unknown>;
export declare const NODE_SNAPSHOT_FLAGS: string[];
