export { HttpRemoteCache } from "./http-remote.js";
export type { HttpRemoteOptions } from "./http-remote.js";
export { RemoteError, MAX_BLOB_BYTES, MAX_ENTRY_BYTES, blobTooLarge } from "./remote-cache.js";
export type { RemoteCache, RemoteHit, RemoteProblem } from "./remote-cache.js";
export { BestEffort } from "./best-effort.js";
export type { BestEffortOptions } from "./best-effort.js";
export { DirectoryCache } from "./directory-cache.js";
export { openRemote } from "./open-remote.js";
export type { OpenRemoteOptions } from "./open-remote.js";
