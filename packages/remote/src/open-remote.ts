import { fileURLToPath } from "node:url";
import { DirectoryCache } from "./directory-cache.js";
import { HttpRemoteCache } from "./http-remote.js";
import { PlainHttpRemote } from "./plain-http-remote.js";
import type { RemoteCache } from "./remote-cache.js";

export interface OpenRemoteOptions {
  readonly token?: string;
  /** The build's interrupt: a remote exchange in flight stops when it aborts. */
  readonly signal?: AbortSignal;
}

/**
 * The remote cache a `--remote` URL names: `http(s)://` an rbuild-cache-server,
 * `webdav+http(s)://` a plain store with GET, HEAD and PUT only (nginx's WebDAV
 * module), `file://` a shared directory. https trusts the certificates Node trusts.
 */
export function openRemote(url: string, options: OpenRemoteOptions = {}): RemoteCache {
  if (url.startsWith("file:")) return new DirectoryCache(fileURLToPath(url));
  if (url.startsWith("webdav+")) return new PlainHttpRemote({ url: url.slice("webdav+".length), ...options });
  return new HttpRemoteCache({ url, ...options });
}
