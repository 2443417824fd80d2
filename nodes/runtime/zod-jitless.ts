// Imported first by the node entries (main.ts, snapshot-main.ts), before any schema is built: zod reads the
// setting when it builds an object schema. Its JIT compiles a parser per object schema (`new Function`), whose
// source and code every node would keep in its heap and start-up snapshot, for the few control messages and
// the one config a node parses; the schemas' ordinary path checks exactly the same.
import { config } from 'zod';

config({ jitless: true });
