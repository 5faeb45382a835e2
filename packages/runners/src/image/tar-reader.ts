/**
 * A reader of tar archives, as image layers and `docker save` tarballs are
 * written: POSIX ustar headers, with pax extended headers (`x`: long paths and
 * link targets) and GNU long names (`L`, `K`); global pax headers (`g`) are
 * skipped. A gzip-compressed archive (OCI `tar+gzip` layers) is inflated
 * first. The whole archive is read into memory: images for tasks are small
 * (busybox is 2 MB); a streaming reader is the change for big ones.
 */
import { gunzipSync } from "node:zlib";

export type TarEntryType = "file" | "directory" | "symlink" | "hardlink" | "other";

export interface TarEntry {
  /** As written in the archive (not yet checked: see unpack.ts). */
  readonly path: string;
  readonly type: TarEntryType;
  /** Permission bits. */
  readonly mode: number;
  /** A link's target; "" for the rest. */
  readonly linkTarget: string;
  /** A file's contents (empty for the rest). */
  readonly data: Buffer;
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString("utf8");
}

function octal(block: Buffer, start: number, length: number): number {
  // Base-256 (GNU, for sizes of 8 GiB and more): the high bit of the first byte.
  if ((block[start]! & 0x80) !== 0) {
    let value = 0;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i]!;
    return value;
  }
  const digits = text(block, start, length).trim();
  return digits === "" ? 0 : parseInt(digits, 8);
}

/** The records of a pax extended header: `LEN key=value\n`. */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = parseInt(data.subarray(at, space).toString("utf8"), 10);
    if (!(length > 0)) break;
    const record = data.subarray(space + 1, at + length - 1).toString("utf8");
    const equals = record.indexOf("=");
    if (equals !== -1) records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

/** Whether `bytes` is gzip-compressed (its magic number). */
export function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The entries of a tar archive (gzip-compressed or not), in order; throws a TarError when it is not one. */
export function readTar(archive: Buffer): TarEntry[] {
  const bytes = isGzip(archive) ? gunzipSync(archive) : archive;
  if (bytes.length < 512) throw new TarError(`${bytes.length} bytes, too short for a tar archive`);
  const entries: TarEntry[] = [];
  let at = 0;
  let longPath: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  while (at + 512 <= bytes.length) {
    const block = bytes.subarray(at, at + 512);
    if (block.every((byte) => byte === 0)) break; // The end: two zero blocks.
    if (text(block, 257, 5) !== "ustar" && !isV7Header(block)) throw new TarError(`no tar header at byte ${at}`);
    const size = octal(block, 124, 12);
    const flag = String.fromCharCode(block[156]!);
    const data = bytes.subarray(at + 512, at + 512 + size);
    if (data.length < size) throw new TarError(`it ends inside an entry (at byte ${at})`);
    at += 512 + Math.ceil(size / 512) * 512;
    if (flag === "x") pax = paxRecords(data);
    else if (flag === "g") continue;
    else if (flag === "L") longPath = text(data, 0, data.length);
    else if (flag === "K") longLink = text(data, 0, data.length);
    else {
      const prefix = text(block, 345, 155);
      const name = text(block, 0, 100);
      const path = pax.get("path") ?? longPath ?? (prefix === "" ? name : `${prefix}/${name}`);
      const linkTarget = pax.get("linkpath") ?? longLink ?? text(block, 157, 100);
      const type: TarEntryType = flag === "0" || flag === "\0" || flag === "7" ? (path.endsWith("/") ? "directory" : "file") : flag === "5" ? "directory" : flag === "2" ? "symlink" : flag === "1" ? "hardlink" : "other";
      entries.push({ path, type, mode: octal(block, 100, 8) & 0o7777, linkTarget: type === "symlink" || type === "hardlink" ? linkTarget : "", data: type === "file" ? data : Buffer.alloc(0) });
      pax = new Map();
      longPath = undefined;
      longLink = undefined;
    }
  }
  return entries;
}

/** An old (v7) header has no magic; its checksum still holds. */
function isV7Header(block: Buffer): boolean {
  const stored = octal(block, 148, 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return stored === sum;
}

/** Not a tar archive, or a damaged one. */
export class TarError extends Error {}
