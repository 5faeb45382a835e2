export { HttpRemoteCache, RemoteError } from "./http-remote.js";
export type { RemoteCache, RemoteHit, HttpRemoteOptions, RemoteProblem } from "./http-remote.js";
export { BestEffort } from "./best-effort.js";
export type { BestEffortOptions } from "./best-effort.js";
export { DirectoryCache } from "./directory-cache.js";
export { openRemote } from "./open-remote.js";
