/**
 * Starting task processes through a small helper process instead of from
 * Node itself.
 *
 * `child_process.spawn` forks the whole Node process: with rbuild's heap that
 * costs 1.5-3.5 ms of the main thread per task (copying page tables, then the
 * copy-on-write faults and the child's teardown at exec), which was over half
 * of a cold build's main-thread time. The helper is a small process that
 * starts each task, relays its stdout and stderr, and reports how it ended, so
 * the main thread only writes a request and reads frames.
 *
 * There are two helpers speaking the same protocol:
 * - python (Linux, the system's /usr/bin/python3, 3.8 or later) starts tasks
 *   with posix_spawn (and a file without #! in /bin/sh, as execvp does),
 *   which glibc implements with a vfork-style clone: no
 *   page tables are copied and no copy-on-write faults follow. A cold build of
 *   1,000 trivial tasks used 1.4-1.6 CPU-seconds less than with perl, where the
 *   fork and its faults cost as much CPU as the task's own shell.
 * - perl (everywhere else, and where python3 is older): forks and execs. Debian
 *   and Ubuntu always install perl-base; macOS ships perl.
 * A python3 without posix_spawn execs the perl helper in its place.
 *
 * A task runs exactly as spawnInGroup runs it directly: in a process group of
 * its own (the group id is the pid reported in the `S` frame, so interrupting
 * can signal the whole group), stdin from /dev/null, the given cwd, umask and
 * env, signals at their defaults, the program looked up on the task's PATH, and
 * it has ended when it exited and both its pipes are closed (so output of
 * anything it left running that still holds them is its output, and waited
 * for, as with `close` of a ChildProcess).
 *
 * Protocol, on the helper's stdin and stdout (ids are decimal, lengths in bytes):
 *   to the helper:  R <id> <len>\n<cwd>\0<umask, octal>\0<argc>\0<argv...>\0<NAME=value...>   run a process
 *                   Q <id> <after> <len>\n<same payload>   run it the moment <after>, a process
 *                                           reported started, has ended (at once if it has)
 *                   N <id>\n                start a queued Q now (another slot freed first); ignored once started
 *                   C <id>\n                cancel a queued Q: reported as ended by SIGTERM, as
 *                                           it would have been had it started; ignored once started
 *   from it:        S <id> <pid>\n          started (pid = process group id); F may still follow
 *                   O <id> <len>\n<bytes>   stdout
 *                   E <id> <len>\n<bytes>   stderr
 *                   X <id> e <code>\n       ended: exited with code
 *                   X <id> s <signal>\n     ended: killed by signal number
 *                   F <id> <len>\n<message> could not start (chdir or exec failed)
 * When rbuild exits, the helper reads end-of-file and exits too; tasks still
 * running are left as they would be by a direct spawn.
 *
 * Q is what makes the helper worth more than a cheap fork: it starts the next
 * command the moment one ends, without waiting for rbuild to hear of the end
 * and answer (see slots.ts, handing over). Whatever the end was: a failure
 * stops new starts in rbuild, not the commands already given a slot.
 *
 * `RBUILD_SPAWN=perl` or `=python` picks that helper only, `=direct` turns the
 * helper off (as does not finding the one wanted): spawnInGroup then forks
 * from Node.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { constants as osConstants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { onPath } from "@rbuild/core";
import type { SpawnResult } from "./spawn-group.js";

const PERL_HELPER = String.raw`
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
my %queued;    # id of a running task => [[id, payload], ...] to start when it ends
my %waiting;   # id of a queued task => the id it starts after
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

# Starts what was queued behind a task that has ended.
sub release_followers {
  my ($id) = @_;
  for my $follower (@{ delete $queued{$id} // [] }) {
    delete $waiting{$follower->[0]};
    start(@$follower);
  }
}

sub finish {
  my ($id) = @_;
  my $t = $tasks{$id};
  return if !defined $t->{status} || defined $t->{out} || defined $t->{err} || defined $t->{exec};
  delete $tasks{$id};
  release_followers($id);
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

sub start_after {
  my ($id, $after, $payload) = @_;
  if (!exists $tasks{$after}) { start($id, $payload); return; }
  push @{ $queued{$after} }, [$id, $payload];
  $waiting{$id} = $after;
}

# Takes a queued task out of the queue: its payload, or undef when it is not queued (it started).
sub unqueue {
  my ($id) = @_;
  my $after = delete $waiting{$id};
  return undef if !defined $after;
  my ($mine) = grep { $_->[0] == $id } @{ $queued{$after} };
  my @rest = grep { $_->[0] != $id } @{ $queued{$after} };
  if (@rest) { $queued{$after} = \@rest; } else { delete $queued{$after}; }
  return $mine->[1];
}

sub cancel {
  my ($id) = @_;
  send_frame("X $id s 15\n") if defined unqueue($id);
}

sub start_now {
  my ($id) = @_;
  my $payload = unqueue($id);
  start($id, $payload) if defined $payload;
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
      my @header = split / /, substr($in, 0, $nl);
      my ($op, $id) = @header;
      if ($op eq 'C' || $op eq 'N') {
        substr($in, 0, $nl + 1) = '';
        if ($op eq 'C') { cancel($id); } else { start_now($id); }
        next;
      }
      my $len = $header[-1];
      last if length($in) < $nl + 1 + $len;
      my $payload = substr($in, $nl + 1, $len);
      substr($in, 0, $nl + 1 + $len) = '';
      if ($op eq 'R') { start($id, $payload); }
      elsif ($op eq 'Q') { start_after($id, $header[2], $payload); }
    }
  }
}
`;

/**
 * The python helper. `os.posix_spawnp` looks the program up on the helper's
 * own PATH, so the helper takes on each task's PATH first (execvp in the perl
 * helper uses the task's environment the same way).
 */
const PYTHON_HELPER = String.raw`
import errno, os, selectors, signal, sys
if not hasattr(os, "posix_spawnp"):  # Python 3.7 or older: the perl helper instead.
    os.execvp("perl", ["perl", "-e", sys.argv[1]])

wake_r, wake_w = os.pipe()
os.set_blocking(wake_r, False)
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda signum, frame: None)
null = os.open("/dev/null", os.O_RDONLY)
# Python ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across exec.
DEFAULTS = {signal.SIGPIPE, signal.SIGXFSZ}
selector = selectors.DefaultSelector()
selector.register(0, selectors.EVENT_READ, None)
selector.register(wake_r, selectors.EVENT_READ, None)
tasks = {}   # id -> [pid, stdout fd or None, stderr fd or None, wait status or None]
by_pid = {}
queued = {}  # id of a running task -> [(id, payload), ...] to start when it ends
waiting = {} # id of a queued task -> the id it starts after
path = os.environ.get("PATH")

def send(data):
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(1, view):]
        except OSError:
            os._exit(0)  # rbuild is gone.

def release_followers(id):
    """Starts what was queued behind a task that has ended."""
    for follower, payload in queued.pop(id, ()):
        del waiting[follower]
        start(follower, payload)

def finish(id):
    task = tasks[id]
    if task[3] is None or task[1] is not None or task[2] is not None:
        return
    del tasks[id]
    release_followers(id)
    status = task[3]
    if os.WIFSIGNALED(status):
        send(b"X %d s %d\n" % (id, os.WTERMSIG(status)))
    else:
        send(b"X %d e %d\n" % (id, os.WEXITSTATUS(status)))

def fail(id, message):
    data = message.encode(errors="replace")
    send(b"F %d %d\n" % (id, len(data)) + data)

def start_after(id, after, payload):
    if after not in tasks:
        start(id, payload)
        return
    queued.setdefault(after, []).append((id, payload))
    waiting[id] = after

def unqueue(id):
    """Takes a queued task out of the queue: its payload, or None when it is not queued (it started)."""
    after = waiting.pop(id, None)
    if after is None:
        return None
    mine = next(payload for follower, payload in queued[after] if follower == id)
    rest = [follower for follower in queued[after] if follower[0] != id]
    if rest:
        queued[after] = rest
    else:
        del queued[after]
    return mine

def cancel(id):
    if unqueue(id) is not None:
        send(b"X %d s %d\n" % (id, signal.SIGTERM))

def start_now(id):
    payload = unqueue(id)
    if payload is not None:
        start(id, payload)

def reap():
    while by_pid:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        id = by_pid.pop(pid, None)
        if id is not None:
            tasks[id][3] = status
            finish(id)

def program_path(name, search):
    if b"/" in name:
        return name
    for directory in (search if search is not None else b"/bin:/usr/bin").split(b":"):
        candidate = os.path.join(directory or b".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None

def start(id, payload):
    global path
    fields = payload.split(b"\0")
    cwd, umask, argc = fields[0], fields[1], int(fields[2])
    argv = fields[3:3 + argc]
    env = dict(field.split(b"=", 1) for field in fields[3 + argc:])
    try:
        os.chdir(cwd)
    except OSError as error:
        fail(id, "cannot change to %s: %s" % (os.fsdecode(cwd), error.strerror))
        return
    os.umask(int(umask, 8))
    task_path = env.get(b"PATH")
    if task_path != path:
        if task_path is None:
            del os.environb[b"PATH"]
        else:
            os.environb[b"PATH"] = task_path
        path = task_path
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    actions = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2)]
    try:
        try:
            pid = os.posix_spawnp(argv[0], argv, env, setpgroup=0, setsigdef=DEFAULTS, file_actions=actions)
        except OSError as error:
            # A file without #! runs in /bin/sh, as execvp runs it (posix_spawnp does not).
            found = error.errno == errno.ENOEXEC and program_path(argv[0], task_path)
            if not found:
                raise
            pid = os.posix_spawn(b"/bin/sh", [b"/bin/sh", found] + argv[1:], env, setpgroup=0, setsigdef=DEFAULTS, file_actions=actions)
    except OSError as error:
        os.close(out_r)
        os.close(err_r)
        fail(id, error.strerror or str(error))
        return
    finally:
        os.close(out_w)
        os.close(err_w)
    tasks[id] = [pid, out_r, err_r, None]
    by_pid[pid] = id
    selector.register(out_r, selectors.EVENT_READ, (id, 1, b"O"))
    selector.register(err_r, selectors.EVENT_READ, (id, 2, b"E"))
    send(b"S %d %d\n" % (id, pid))

pending = bytearray()
while True:
    for key, _ in selector.select():
        if key.data is not None:
            id, which, kind = key.data
            task = tasks[id]
            data = os.read(task[which], 65536)
            if data:
                send(b"%s %d %d\n" % (kind, id, len(data)) + data)
            else:
                selector.unregister(task[which])
                os.close(task[which])
                task[which] = None
                finish(id)
        elif key.fd == wake_r:
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
        else:
            data = os.read(0, 65536)
            if not data:
                sys.exit(0)
            pending += data
            while True:
                newline = pending.find(b"\n")
                if newline < 0:
                    break
                header = bytes(pending[:newline]).split(b" ")
                op, id = header[0], int(header[1])
                if op == b"C" or op == b"N":
                    del pending[:newline + 1]
                    (cancel if op == b"C" else start_now)(id)
                    continue
                end = newline + 1 + int(header[-1])
                if len(pending) < end:
                    break
                payload = bytes(pending[newline + 1:end])
                del pending[:end]
                if op == b"R":
                    start(id, payload)
                elif op == b"Q":
                    start_after(id, int(header[2]), payload)
    reap()
`;

export interface LaunchRequest {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** A command of this helper to start this one after, the moment it has ended, instead of now (see `Q`). */
  readonly after?: StartedCommand;
  /** Aborting a command queued behind another takes it out of the queue; once started, stopping it is the caller's. */
  readonly signal?: AbortSignal;
  /** Aborted when a command queued behind another is to start at once instead. */
  readonly startNow?: AbortSignal;
  readonly onStart: (pid: number, command: StartedCommand) => void;
  readonly onStdout: (chunk: Buffer) => void;
  readonly onStderr: (chunk: Buffer) => void;
}

/** A command a helper has started: another can be queued behind it. */
export interface StartedCommand {
  readonly launcher: Launcher;
  readonly id: number;
}

interface InFlight {
  readonly request: LaunchRequest;
  readonly done: (end: SpawnResult) => void;
  /** Set while the command waits in the helper's queue: take it out, or start it now. */
  onAbort?: () => void;
  onStartNow?: () => void;
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, number]) => [number, name]));

export type HelperKind = "python" | "perl";

/**
 * The system's python3 on Linux. Not the first on PATH: that is often a
 * version manager's shim, a shell script that takes 100-200 ms to start
 * the interpreter (the system's starts in about 15 ms with -I -S).
 */
function systemPython(): string | undefined {
  return process.platform === "linux" ? onPath("python3", { PATH: "/usr/bin:/usr/local/bin" }) : undefined;
}

/**
 * Starts the process helper of this process ahead of the first command, when
 * `graph` has commands: the interpreter's ~20 ms start then overlaps the
 * store's opening and the first tasks' keys instead of delaying the first
 * command.
 */
export function startProcessHelper(graph: { readonly tasks: ReadonlyMap<string, { readonly run?: unknown }> }): void {
  for (const task of graph.tasks.values()) {
    if (typeof task.run === "string") {
      Launcher.shared();
      return;
    }
  }
}

/** The helper process and the tasks it runs for this rbuild. */
export class Launcher {
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly #inFlight = new Map<number, InFlight>();
  #nextId = 1;
  #pending: Buffer = Buffer.alloc(0);
  #stderr = "";
  #dead: string | undefined;

  private constructor(readonly helper: HelperKind, program: string) {
    const args = helper === "python" ? ["-I", "-S", "-c", PYTHON_HELPER, PERL_HELPER] : ["-e", PERL_HELPER];
    // Its own session: a Ctrl-C at the terminal reaches rbuild, which stops tasks itself.
    this.#child = spawn(program, args, { stdio: ["pipe", "pipe", "pipe"], detached: true, env: {} });
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

  /**
   * The helper of this process, started on first use; undefined when it is off
   * or cannot run. RBUILD_SPAWN chooses (`python`, `perl`, `direct`); by default
   * python where it is found, else perl.
   */
  static shared(env: Readonly<Record<string, string | undefined>> = process.env): Launcher | undefined {
    if (Launcher.#shared === undefined) {
      const choice = env.RBUILD_SPAWN;
      const kinds: HelperKind[] = choice === "direct" ? [] : choice === "perl" || choice === "python" ? [choice] : ["python", "perl"];
      Launcher.#shared = null;
      for (const kind of kinds) {
        const launcher = Launcher.start(kind, env);
        if (launcher !== undefined) {
          Launcher.#shared = launcher;
          break;
        }
      }
    }
    const launcher = Launcher.#shared;
    if (launcher === null || launcher.#dead !== undefined) return undefined;
    return launcher;
  }

  /** A new helper of this kind (tests use both); undefined when its interpreter is not here. */
  static start(kind: HelperKind, env: Readonly<Record<string, string | undefined>> = process.env): Launcher | undefined {
    if (process.platform === "win32") return undefined;
    const program = kind === "python" ? systemPython() : onPath("perl", env);
    return program === undefined ? undefined : new Launcher(kind, program);
  }

  /** The helper's process id (tests stop it to see how its death is reported). */
  get pid(): number | undefined {
    return this.#child.pid;
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
    const after = request.startNow?.aborted ? undefined : request.after;
    if (after !== undefined && after.launcher !== this) throw new Error("a command can only be queued behind one of the same helper");
    return new Promise((resolve) => {
      if (this.#inFlight.size === 0) this.#busy();
      const flight: InFlight = { request, done: resolve };
      this.#inFlight.set(id, flight);
      const signal = request.signal;
      if (after !== undefined && signal !== undefined) {
        flight.onAbort = () => this.#child.stdin.write(`C ${id}\n`);
        signal.addEventListener("abort", flight.onAbort, { once: true });
      }
      if (after !== undefined && request.startNow !== undefined) {
        flight.onStartNow = () => this.#child.stdin.write(`N ${id}\n`);
        request.startNow.addEventListener("abort", flight.onStartNow, { once: true });
      }
      const header = after === undefined ? `R ${id}` : `Q ${id} ${after.id}`;
      this.#child.stdin.write(`${header} ${Buffer.byteLength(payload)}\n${payload}`);
      if (signal?.aborted) flight.onAbort?.();
    });
  }

  #started(flight: InFlight): void {
    if (flight.onAbort !== undefined) flight.request.signal!.removeEventListener("abort", flight.onAbort);
    if (flight.onStartNow !== undefined) flight.request.startNow!.removeEventListener("abort", flight.onStartNow);
    flight.onAbort = undefined;
    flight.onStartNow = undefined;
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
      if (op === "S") {
        this.#started(flight);
        flight.request.onStart(Number(header[2]), { launcher: this, id });
      }
      else if (op === "X" && header[2] === "e") this.#end(id, { kind: "exited", exitCode: Number(header[3]) });
      else if (op === "X") this.#end(id, { kind: "signaled", signal: SIGNAL_NAMES.get(Number(header[3])) ?? `signal ${header[3]}` });
    }
    this.#pending = data; // What is left of a frame: part of this chunk (never reused by the stream) or of the concatenation.
  }

  #end(id: number, end: SpawnResult): void {
    const flight = this.#inFlight.get(id);
    if (flight === undefined) return;
    this.#inFlight.delete(id);
    this.#started(flight);
    if (this.#inFlight.size === 0) this.#idle();
    flight.done(end);
  }

  #deadMessage(): string {
    const said = this.#stderr.trim();
    return `rbuild's process helper (${this.helper}) stopped: ${this.#dead}${said === "" ? "" : `: ${said}`}. Set RBUILD_SPAWN=direct to start tasks without it.`;
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
