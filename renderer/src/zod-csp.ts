// Imported first by main.tsx. zod compiles fast object parsers with `new Function`
// when it can, and probes for that on first use; under the app's strict CSP
// (script-src 'self', no 'unsafe-eval') the probe is refused and reported as a
// securitypolicyviolation even though zod catches the error. jitless skips the probe
// and the compiler: the renderer parses small frames, so the fast path buys nothing.
import { z } from 'zod';

z.config({ jitless: true });
