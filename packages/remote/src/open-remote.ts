import { fileURLToPath } from "node:url";
import { DirectoryCache } from "./directory-cache.js";
import { HttpRemoteCache } from "./http-remote.js";
import type { RemoteCache } from "./remote-cache.js";

export interface OpenRemoteOptions {
  readonly token?: string;
  /** The build's interrupt: a remote exchange in flight stops when it aborts. */
  readonly signal?: AbortSignal;
}

/**
 * The remote cache a `--remote` URL names: `http(s)://` a server, `file://` a
 * shared directory. https trusts the certificates Node trusts.
 */
export function openRemote(url: string, options: OpenRemoteOptions = {}): RemoteCache {
  if (url.startsWith("file:")) return new DirectoryCache(fileURLToPath(url));
  return new HttpRemoteCache({ url, ...options });
}
