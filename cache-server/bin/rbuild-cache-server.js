#!/usr/bin/env node
// The compiled server lives in dist/ (built by `npm install` through the root `prepare` script).
import { main } from "../dist/main.js";

process.exitCode = await main(process.argv.slice(2));
