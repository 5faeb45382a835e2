/**
 * Reading an answer from a remote that may be hostile or broken: never more
 * than a stated number of bytes. A remote is untrusted, and a client that
 * buffers whatever it is sent can be made to hold gigabytes (a 1.1 GB answer
 * once took 2.3 GB of memory). Past the limit the body is dropped, unread.
 */
import type { Dispatcher } from "undici";
import { RemoteError } from "./remote-cache.js";

/** Drops an answer's body unread (and its connection with it: undici cannot reuse it). */
export function drop(response: Dispatcher.ResponseData): void {
  response.body.on("error", () => {}); // The abort it reports is ours.
  response.body.destroy();
}

/** The body of `response`, at most `limit` bytes; else a RemoteError that names `what` and the limit. */
export async function readCapped(response: Dispatcher.ResponseData, limit: number, what: string): Promise<Buffer> {
  const tooLarge = (): RemoteError => new RemoteError("status", `${what}: the answer is larger than ${limit} bytes, more than any this rbuild asks for`);
  const declared = Number(response.headers["content-length"] ?? Number.NaN);
  if (declared > limit) {
    drop(response);
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      drop(response);
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
