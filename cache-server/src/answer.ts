/**
 * Sending a small answer. When the request still has body bytes on the way
 * that nobody is going to read (refused before reading: no token, too large,
 * a bad header), keeping the connection alive would mean waiting for the whole
 * body first, for as long as the client cares to drip it: a thousand such
 * connections exhausted the server's descriptors. So such an answer says
 * `Connection: close`, and the connection is closed once it is flushed.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** True when the request has a body that has not been received whole. */
function bodyUnread(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

export function send(res: ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8"): void {
  const close = bodyUnread(res.req);
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), ...(close ? { connection: "close" } : {}) });
  if (close) res.once("finish", () => res.socket?.destroySoon());
  res.end(body);
}
