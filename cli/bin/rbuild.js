#!/usr/bin/env node
// The CLI is bundled into dist/rbuild.mjs by `npm run build` (run by `npm install` through `prepare`).
import { main } from "../dist/rbuild.mjs";

process.exitCode = await main(process.argv.slice(2));
