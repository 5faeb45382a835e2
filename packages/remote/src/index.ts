export { HttpRemoteCache, RemoteError } from "./http-remote.js";
export type { RemoteCache, HttpRemoteOptions, RemoteProblem } from "./http-remote.js";
export { BestEffort } from "./best-effort.js";
export type { BestEffortOptions } from "./best-effort.js";
export { DirectoryCache } from "./directory-cache.js";
export { openRemote } from "./open-remote.js";
