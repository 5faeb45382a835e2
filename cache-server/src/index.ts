export { startCacheServer } from "./server.js";
export type { ServerOptions, RunningServer } from "./server.js";
export { loadTokens } from "./tokens.js";
export type { Scope } from "./tokens.js";
