export declare const ROOT: string;
export declare function findPackagedApp(platform?: NodeJS.Platform, release?: string): { ok: true; executable: string; kind: string } | { ok: false; reason: string };
export declare function displayProblem(platform?: NodeJS.Platform): null | { wrap: 'xvfb-run' } | { reason: string };
