/**
 * A real nginx (Debian's, with its WebDAV module) as a plain HTTP store with
 * GET, HEAD and PUT only, the way Bazel's docs set one up as a remote cache:
 * `dav_methods PUT; create_full_put_path on;`. Everything it writes (config,
 * pid, logs, temp files, the store's root) is in one temp dir; it runs in the
 * foreground in a process group of its own, on a free port of 127.0.0.1.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { eventually, liveMembers } from "./processes.js";

export interface RunningNginx {
  /** http://127.0.0.1:PORT/cache/ : the store's base (the prefix shows that paths under one work). */
  readonly url: string;
  /** The directory nginx serves `/cache/` from: the store's files, to look at or spoil. */
  readonly root: string;
  /** The process group of nginx's master and worker. */
  readonly pgid: number;
  /** Stops nginx and waits until none of its processes is left; removes its dir. */
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Basic credentials the store requires (user -> password); none by default. */
  readonly users?: Readonly<Record<string, string>>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function config(dir: string, port: number, options: NginxOptions): string {
  // A root master switches its worker to `nobody`, who could not write the store: keep it as whoever we are.
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};` : "";
  const auth = options.users === undefined ? "" : `auth_basic "rbuild test store"; auth_basic_user_file ${dir}/htpasswd;`;
  return `${user}
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  default_type application/octet-stream;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    location /cache/ {
      root ${dir}/www;
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
      client_max_body_size 2g;
      ${auth}
    }
  }
}
`;
}

/** Whether nginx answers HTTP at `port` yet (any status will do). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, method: "HEAD", path: "/" }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on("error", () => resolve(false));
    req.end();
  });
}

async function started(child: ChildProcess, port: number): Promise<boolean> {
  const exited = new Promise<false>((resolve) => child.once("exit", () => resolve(false)));
  const up = (async (): Promise<boolean> => {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(50)) {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      if (await answers(port)) return true;
    }
    return false;
  })();
  return Promise.race([up, exited]);
}

/** Starts nginx; a port taken between our probe and nginx's bind is tried again with another. */
export async function startNginx(options: NginxOptions = {}): Promise<RunningNginx> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-nginx-")));
  mkdirSync(join(dir, "tmp"));
  mkdirSync(join(dir, "www", "cache"), { recursive: true });
  const users = Object.entries(options.users ?? {}).map(([user, password]) => `${user}:{PLAIN}${password}\n`);
  writeFileSync(join(dir, "htpasswd"), users.join(""));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, "nginx.conf"), config(dir, port, options));
    const child = spawn("nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], { detached: true, stdio: "ignore" });
    child.on("error", () => {}); // No nginx: reported below, with the error log.
    if (await started(child, port)) {
      const pgid = child.pid!;
      return {
        url: `http://127.0.0.1:${port}/cache/`,
        root: join(dir, "www", "cache"),
        pgid,
        stop: async () => {
          const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", resolve));
          try {
            process.kill(-pgid, "SIGTERM"); // nginx's fast shutdown; the master stops its worker.
          } catch {
            // Gone already.
          }
          await exited;
          if (!(await eventually(() => liveMembers(pgid).length === 0))) throw new Error(`nginx left processes running: ${liveMembers(pgid).join(", ")}`);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // It exited by itself (a taken port, a bad config).
    }
    let log = "";
    try {
      log = readFileSync(join(dir, "error.log"), "utf8");
    } catch {
      // No log: nginx did not even start (not installed?).
    }
    if (attempt === 3 || !log.includes("Address already in use")) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start (install it: apt-get install nginx):\n${log.slice(-2000)}`);
    }
  }
}
