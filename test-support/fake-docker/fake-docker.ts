/** The tests' handle on the fake docker (README.md): a fresh state directory, the environment that puts the fake first on PATH, and what it was asked. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The directory holding the fake `docker`. */
export const FAKE_DOCKER_DIR = fileURLToPath(new URL(".", import.meta.url)).replace(/\/$/, "");

export interface FakeDocker {
  /** Its "daemon"'s state directory. */
  readonly state: string;
  /** PATH with the fake first, and FAKE_DOCKER_STATE. */
  readonly env: Record<string, string>;
  /** Each call's arguments, in order. */
  calls(): string[][];
  /** The containers running now: name and the pid of its process group. */
  containers(): { name: string; pid: number }[];
  /** Stops the containers still running (a test that failed may leave one) and removes the state. */
  remove(): void;
}

export function fakeDocker(path = process.env.PATH ?? "/usr/bin:/bin"): FakeDocker {
  const state = mkdtempSync(join(tmpdir(), "rbuild-fake-docker-"));
  const fake: FakeDocker = {
    state,
    env: { PATH: `${FAKE_DOCKER_DIR}:${path}`, FAKE_DOCKER_STATE: state },
    calls: () => {
      const log = join(state, "calls.log");
      if (!existsSync(log)) return [];
      return readFileSync(log, "utf8").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as string[]);
    },
    containers: () => {
      const dir = join(state, "containers");
      if (!existsSync(dir)) return [];
      return readdirSync(dir).map((file) => ({ name: file.replace(/\.json$/, ""), pid: (JSON.parse(readFileSync(join(dir, file), "utf8")) as { pid: number }).pid }));
    },
    remove: () => {
      for (const { pid } of fake.containers()) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // Gone already.
        }
      }
      rmSync(state, { recursive: true, force: true });
    },
  };
  return fake;
}
