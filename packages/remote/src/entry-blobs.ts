/**
 * The one thing a remote store knows of an entry: the `blobs` it names (every
 * digest its result needs). A store keeps an entry only once those blobs are
 * stored, and answers it as a miss once one is gone, so a hit is whole.
 * Anything else (not JSON, no list, a name that is not a digest: an HTML page
 * a proxy answered with) is not an entry.
 */
export function blobsOf(bytes: Buffer): string[] | undefined {
  try {
    const blobs = (JSON.parse(bytes.toString("utf8")) as { blobs?: unknown }).blobs;
    return Array.isArray(blobs) && blobs.every((b) => typeof b === "string" && /^[0-9a-f]{64}$/.test(b)) ? (blobs as string[]) : undefined;
  } catch {
    return undefined;
  }
}
