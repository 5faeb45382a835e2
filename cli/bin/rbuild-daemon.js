#!/usr/bin/env node
// The rbuild daemon (src/daemon.ts). rbuild starts it in the background by itself.
import { serveDaemon } from "../dist/rbuild.mjs";

await serveDaemon(process.argv[2], process.argv.slice(3));
