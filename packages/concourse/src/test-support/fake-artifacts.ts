/**
 * The test double's artifacts (reference concourse.md §2.9): a tar.gz uploaded by a client, or a
 * one-off build's output, kept as a directory; served back as a tar.gz. The system `tar` packs and
 * unpacks them, as fly does on the client side.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface FakeArtifact {
  readonly id: number;
  readonly name: string;
  readonly team: string;
  readonly buildId: number;
  readonly createdAt: number;
  readonly dir: string;
}

/** `atc.WorkerArtifact` as the API presents it. */
export function presentArtifact(artifact: FakeArtifact): Record<string, unknown> {
  return { id: artifact.id, name: artifact.name, build_id: artifact.buildId, created_at: artifact.createdAt };
}

/** Unpacks the tar.gz `body` streams into `dir`; resolves to tar's complaint if it is not one. */
export async function unpack(body: Readable, dir: string): Promise<string | undefined> {
  mkdirSync(dir, { recursive: true });
  const tar = spawn("tar", ["-xzf", "-", "-C", dir], { stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  tar.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => tar.on("close", resolve));
  try {
    await pipeline(body, tar.stdin);
  } catch (error) {
    tar.kill();
    await exited;
    return (error as Error).message;
  }
  const code = await exited;
  return code === 0 ? undefined : stderr.trim() || `tar exited with ${code}`;
}

/** Writes `dir` as a tar.gz (first entry `./`, as fly's archives) to `out`. */
export async function pack(dir: string, out: Writable): Promise<void> {
  const tar = spawn("tar", ["-czf", "-", "-C", dir, "."], { stdio: ["ignore", "pipe", "ignore"] });
  await pipeline(tar.stdout, out);
}
