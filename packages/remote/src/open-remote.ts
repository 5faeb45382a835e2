import { fileURLToPath } from "node:url";
import { DirectoryCache } from "./directory-cache.js";
import { HttpRemoteCache } from "./http-remote.js";
import type { RemoteCache } from "./remote-cache.js";

/**
 * The remote cache a `--remote` URL names: `http(s)://` a server, `file://` a
 * shared directory. https trusts the certificates Node trusts.
 */
export function openRemote(url: string, token?: string): RemoteCache {
  if (url.startsWith("file:")) return new DirectoryCache(fileURLToPath(url));
  return new HttpRemoteCache({ url, ...(token === undefined ? {} : { token }) });
}
