#!/usr/bin/env node
// The CLI is bundled into dist/rbuild.mjs by `npm run build` (run by `npm install` through `prepare`).
import { main } from "../dist/rbuild.mjs";

// rbuild ends once its command is done and reported: it does not wait for work a Buildfile or a
// task function left running (a timer it did not await), which could otherwise throw after the
// summary and end with a status the summary did not give.
process.exit(await main(process.argv.slice(2)));
