/**
 * One 1 MiB buffer for the synchronous copy loops of this package (layer
 * writing and extraction, blob verification). They never run interleaved,
 * and allocating a fresh megabyte per task was most of a cold build's garbage.
 */
let buffer: Buffer | undefined;

export function scratch(): Buffer {
  buffer ??= Buffer.allocUnsafe(1024 * 1024);
  return buffer;
}
