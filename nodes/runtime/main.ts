// The entry every node process runs, whatever its role (out/nodes/node.js). The supervisor
// passes the node's configuration as one JSON argument; a bad one exits with a clear message.
import './zod-jitless.js';
import { runNode } from './run-node.js';

runNode(process.argv[2] ?? process.env.IVY_NODE_CONFIG);
