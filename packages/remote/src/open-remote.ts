import { fileURLToPath } from "node:url";
import { DirectoryCache } from "./directory-cache.js";
import { HttpRemoteCache } from "./http-remote.js";
import type { RemoteCache } from "./remote-cache.js";

/**
 * The remote cache a `--remote` URL names: `http(s)://` a server, `file://` a
 * shared directory. `ca`: the certificates https trusts, instead of Node's.
 */
export function openRemote(url: string, token?: string, ca?: readonly string[]): RemoteCache {
  if (url.startsWith("file:")) return new DirectoryCache(fileURLToPath(url));
  return new HttpRemoteCache({ url, ...(token === undefined ? {} : { token }), ...(ca === undefined ? {} : { ca }) });
}
