/**
 * Starting task processes through a small helper process instead of from
 * Node itself.
 *
 * `child_process.spawn` forks the whole Node process: with rbuild's heap that
 * costs 1.5-3.5 ms of the main thread per task (copying page tables, then the
 * copy-on-write faults and the child's teardown at exec), which was over half
 * of a cold build's main-thread time. The helper is a perl process of a few
 * MiB (Debian and Ubuntu always install perl-base; macOS ships perl): it forks and
 * execs each task, relays its stdout and stderr, and reports how it ended, so
 * the main thread only writes a request and reads frames.
 *
 * A task runs exactly as spawnInGroup runs it directly: in a process group of
 * its own (the group id is the pid reported in the `S` frame, so interrupting
 * can signal the whole group), stdin from /dev/null, the given cwd and env, and
 * it has ended when it exited and both its pipes are closed (so output of
 * anything it left running that still holds them is its output, and waited
 * for, as with `close` of a ChildProcess).
 *
 * Protocol, on the helper's stdin and stdout (ids are decimal, lengths in bytes):
 *   to the helper:  R <id> <len>\n<cwd>\0<umask, octal>\0<argc>\0<argv...>\0<NAME=value...>   run a process
 *   from it:        S <id> <pid>\n          forked (pid = process group id); F may still follow
 *                   O <id> <len>\n<bytes>   stdout
 *                   E <id> <len>\n<bytes>   stderr
 *                   X <id> e <code>\n       ended: exited with code
 *                   X <id> s <signal>\n     ended: killed by signal number
 *                   F <id> <len>\n<message> could not start (chdir or exec failed)
 * When rbuild exits, the helper reads end-of-file and exits too; tasks still
 * running are left as they would be by a direct spawn.
 *
 * `RBUILD_SPAWN=direct` turns the helper off (and without perl on PATH it is
 * off): spawnInGroup then forks from Node as before.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { constants as osConstants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { onPath } from "@rbuild/core";
import type { SpawnResult } from "./spawn-group.js";

const HELPER = String.raw`
use strict;
use warnings;
use POSIX ();

binmode STDIN;
binmode STDOUT;
$SIG{PIPE} = 'IGNORE';
pipe(my $wake_r, my $wake_w) or die "rbuild helper: pipe: $!\n";
open(my $null, '<', '/dev/null') or die "rbuild helper: /dev/null: $!\n";
$SIG{CHLD} = sub { syswrite($wake_w, "x") };

my %tasks;     # id => { pid, out, err, exec, status, failed }
my %by_pid;
my $in = '';

sub send_frame {
  my ($data) = @_;
  my $off = 0;
  while ($off < length $data) {
    my $n = syswrite(STDOUT, $data, length($data) - $off, $off);
    if (!defined $n) { next if $!{EINTR}; exit 0; }
    $off += $n;
  }
}

sub finish {
  my ($id) = @_;
  my $t = $tasks{$id};
  return if !defined $t->{status} || defined $t->{out} || defined $t->{err} || defined $t->{exec};
  delete $tasks{$id};
  my $s = $t->{status};
  if ($t->{failed} ne '') { send_frame("F $id " . length($t->{failed}) . "\n" . $t->{failed}); }
  elsif ($s & 127) { send_frame("X $id s " . ($s & 127) . "\n"); }
  else { send_frame("X $id e " . ($s >> 8) . "\n"); }
}

sub reap {
  while ((my $pid = waitpid(-1, 1)) > 0) {  # 1: WNOHANG
    my $id = delete $by_pid{$pid};
    next unless defined $id;
    $tasks{$id}{status} = $?;
    finish($id);
  }
}

sub fail {
  my ($id, $message) = @_;
  send_frame("F $id " . length($message) . "\n$message");
}

# Everything a task needs that is not per process (its directory, umask and
# environment) is set here, in the helper, before the fork: the child only
# joins its process group, takes its pipes and execs. What a child does
# before exec costs copy-on-write faults of the helper's pages.
sub start {
  my ($id, $payload) = @_;
  my @fields = split /\0/, $payload, -1;
  my $cwd = shift @fields;
  my $umask = shift @fields;
  my $argc = shift @fields;
  my @argv = splice(@fields, 0, $argc);
  if (!chdir $cwd) { fail($id, "cannot change to $cwd: $!"); return; }
  umask(oct($umask));
  %ENV = map { my $i = index($_, '='); (substr($_, 0, $i), substr($_, $i + 1)) } @fields;
  my ($out_r, $out_w, $err_r, $err_w, $exec_r, $exec_w);
  if (!(pipe($out_r, $out_w) && pipe($err_r, $err_w) && pipe($exec_r, $exec_w))) { fail($id, "pipe: $!"); return; }
  my $pid = fork();
  if (!defined $pid) { fail($id, "fork: $!"); return; }
  if ($pid == 0) {
    setpgrp(0, 0);
    $SIG{PIPE} = 'DEFAULT';
    $SIG{CHLD} = 'DEFAULT';
    open(STDIN, '<&', $null);
    open(STDOUT, '>&', $out_w);
    open(STDERR, '>&', $err_w);
    { no warnings; exec { $argv[0] } @argv; }
    syswrite($exec_w, "$!");
    POSIX::_exit(127);
  }
  setpgrp($pid, $pid);
  close $out_w;
  close $err_w;
  close $exec_w;
  # Pipes perl opens are close-on-exec: end of file on exec_r means the exec happened (or the
  # child died); bytes on it are why the exec failed. Read in the loop, not waited for here.
  $tasks{$id} = { pid => $pid, out => $out_r, err => $err_r, exec => $exec_r, failed => '' };
  $by_pid{$pid} = $id;
  send_frame("S $id $pid\n");
}

sub relay {
  my ($id, $which, $kind) = @_;
  my $t = $tasks{$id};
  my $n = sysread($t->{$which}, my $bytes, 65536);
  return if !defined $n && ($!{EINTR} || $!{EAGAIN});
  if ($n) {
    if ($which eq 'exec') { $t->{failed} .= $bytes; } else { send_frame("$kind $id $n\n$bytes"); }
    return;
  }
  close $t->{$which};
  $t->{$which} = undef;
  finish($id);
}

while (1) {
  my $rin = '';
  vec($rin, fileno(STDIN), 1) = 1;
  vec($rin, fileno($wake_r), 1) = 1;
  for my $t (values %tasks) {
    for my $which ('out', 'err', 'exec') { vec($rin, fileno($t->{$which}), 1) = 1 if defined $t->{$which}; }
  }
  my $ready = select(my $rout = $rin, undef, undef, undef);
  if ($ready < 0) {
    die "rbuild helper: select: $!\n" if !$!{EINTR};
    reap();
    next;
  }
  if (vec($rout, fileno($wake_r), 1)) { sysread($wake_r, my $junk, 4096); }
  reap();
  for my $id (keys %tasks) {
    my $t = $tasks{$id};
    relay($id, 'exec', '') if defined $t->{exec} && vec($rout, fileno($t->{exec}), 1);
    $t = $tasks{$id} or next;
    relay($id, 'out', 'O') if defined $t->{out} && vec($rout, fileno($t->{out}), 1);
    $t = $tasks{$id} or next;
    relay($id, 'err', 'E') if defined $t->{err} && vec($rout, fileno($t->{err}), 1);
  }
  if (vec($rout, fileno(STDIN), 1)) {
    my $n = sysread(STDIN, $in, 65536, length $in);
    next if !defined $n && $!{EINTR};
    exit 0 if !$n;
    while ((my $nl = index($in, "\n")) >= 0) {
      my ($op, $id, $len) = split / /, substr($in, 0, $nl);
      last if length($in) < $nl + 1 + $len;
      my $payload = substr($in, $nl + 1, $len);
      substr($in, 0, $nl + 1 + $len) = '';
      start($id, $payload) if $op eq 'R';
    }
  }
}
`;

export interface LaunchRequest {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly onStart: (pid: number) => void;
  readonly onStdout: (chunk: Buffer) => void;
  readonly onStderr: (chunk: Buffer) => void;
}

interface InFlight {
  readonly request: LaunchRequest;
  readonly done: (end: SpawnResult) => void;
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, number]) => [number, name]));

/** The helper process and the tasks it runs for this rbuild. */
export class Launcher {
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly #inFlight = new Map<number, InFlight>();
  #nextId = 1;
  #pending: Buffer = Buffer.alloc(0);
  #stderr = "";
  #dead: string | undefined;

  private constructor(perl: string) {
    // Its own session: a Ctrl-C at the terminal reaches rbuild, which stops tasks itself.
    this.#child = spawn(perl, ["-e", HELPER], { stdio: ["pipe", "pipe", "pipe"], detached: true, env: {} });
    this.#child.stdout.on("data", (chunk: Buffer) => this.#receive(chunk));
    this.#child.stderr.on("data", (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-2000);
    });
    this.#child.stdin.on("error", () => {}); // The helper died: "exit" says so.
    this.#child.on("error", (error) => this.#die(error.message));
    this.#child.on("exit", (code, signal) => this.#die(`it exited (${signal ?? `code ${code}`})`));
    this.#idle();
  }

  static #shared: Launcher | null | undefined;

  /** The helper of this process, started on first use; undefined when it is off or cannot run. */
  static shared(env: Readonly<Record<string, string | undefined>> = process.env): Launcher | undefined {
    if (Launcher.#shared === undefined) {
      const perl = env.RBUILD_SPAWN === "direct" || process.platform === "win32" ? undefined : onPath("perl", env);
      Launcher.#shared = perl === undefined ? null : new Launcher(perl);
    }
    const launcher = Launcher.#shared;
    if (launcher === null || launcher.#dead !== undefined) return undefined;
    return launcher;
  }

  /** Runs `file` with `args`; resolves when it has ended and its output is all delivered. */
  launch(request: LaunchRequest): Promise<SpawnResult> {
    if (this.#dead !== undefined) return Promise.resolve({ kind: "error", message: this.#deadMessage() });
    const id = this.#nextId++;
    // The umask of rbuild now, not when the helper started: the daemon takes on each client's.
    const fields = [request.cwd, process.umask().toString(8), String(request.args.length + 1), request.file, ...request.args];
    for (const [name, value] of Object.entries(request.env)) fields.push(`${name}=${value}`);
    // As spawn() itself refuses them: a NUL would shift every field after it.
    if (fields.some((field) => field.includes("\0"))) return Promise.resolve({ kind: "error", message: "its command, arguments or environment hold a NUL byte" });
    const payload = fields.join("\0");
    return new Promise((resolve) => {
      if (this.#inFlight.size === 0) this.#busy();
      this.#inFlight.set(id, { request, done: resolve });
      this.#child.stdin.write(`R ${id} ${Buffer.byteLength(payload)}\n${payload}`);
    });
  }

  /** Parses frames: a header line, and for O, E and F that many bytes after it. */
  #receive(chunk: Buffer): void {
    let data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (true) {
      const newline = data.indexOf(0x0a);
      if (newline < 0) break;
      const header = data.toString("latin1", 0, newline).split(" ");
      const [op, idText] = header;
      const id = Number(idText);
      const flight = this.#inFlight.get(id);
      if (op === "O" || op === "E" || op === "F") {
        const length = Number(header[2]);
        if (data.length < newline + 1 + length) break;
        const bytes = data.subarray(newline + 1, newline + 1 + length);
        data = data.subarray(newline + 1 + length);
        if (flight === undefined) continue;
        if (op === "O") flight.request.onStdout(Buffer.from(bytes));
        else if (op === "E") flight.request.onStderr(Buffer.from(bytes));
        else this.#end(id, { kind: "error", message: bytes.toString() });
        continue;
      }
      data = data.subarray(newline + 1);
      if (flight === undefined) continue;
      if (op === "S") flight.request.onStart(Number(header[2]));
      else if (op === "X" && header[2] === "e") this.#end(id, { kind: "exited", exitCode: Number(header[3]) });
      else if (op === "X") this.#end(id, { kind: "signaled", signal: SIGNAL_NAMES.get(Number(header[3])) ?? `signal ${header[3]}` });
    }
    this.#pending = data; // What is left of a frame: part of this chunk (never reused by the stream) or of the concatenation.
  }

  #end(id: number, end: SpawnResult): void {
    const flight = this.#inFlight.get(id);
    if (flight === undefined) return;
    this.#inFlight.delete(id);
    if (this.#inFlight.size === 0) this.#idle();
    flight.done(end);
  }

  #deadMessage(): string {
    const said = this.#stderr.trim();
    return `rbuild's process helper (perl) stopped: ${this.#dead}${said === "" ? "" : `: ${said}`}. Set RBUILD_SPAWN=direct to start tasks without it.`;
  }

  #die(why: string): void {
    if (this.#dead !== undefined) return;
    this.#dead = why;
    for (const id of [...this.#inFlight.keys()]) this.#end(id, { kind: "error", message: this.#deadMessage() });
  }

  /** While tasks run, the helper keeps rbuild alive; idle, it must not keep it from exiting. */
  #busy(): void {
    this.#child.ref();
    (this.#child.stdout as unknown as { ref(): void }).ref();
  }

  #idle(): void {
    this.#child.unref();
    for (const stream of [this.#child.stdin, this.#child.stdout, this.#child.stderr] as unknown as { unref?: () => void }[]) stream.unref?.();
  }
}
