"""rbuild's process helper: starts task processes for rbuild with posix_spawn.

rbuild's main thread would otherwise fork its whole Node process for every
task (1.5-3.5 ms of page-table copying and copy-on-write faults each). This
small process starts each task with posix_spawn, which glibc implements with
a vfork-style clone (nothing copied), relays the task's stdout and stderr and
reports how it ended. src/process-helper.ts is its other end; the protocol is
described there. It is tested directly by src/process-helper.test.ts.

A task runs exactly as rbuild's direct spawn runs it: in a process group of
its own (its pid is the group id), stdin from /dev/null, the given cwd, umask
and environment, every signal at its default, the program looked up on the
task's own PATH (a file without #! runs in /bin/sh, as execvp runs it), and it
has ended once it exited and both its pipes are closed.

Whatever keeps one request from starting (a missing directory or program, no
file descriptors left, an argv or environment it cannot pass) is answered
with an F frame for that request alone: the helper serves the others on.

Run as `python3 -I -S process_helper.py`. When its stdin closes, or rbuild
no longer reads what it writes, rbuild is gone (killed, or it closed the
helper): the helper stops the process groups of the tasks still running,
SIGTERM and SIGKILL after a grace period as rbuild itself stops them, and
exits. Left running, they would write into the next build's outputs.

Run with `--sandbox`, it first gives itself the namespaces that every
sandboxed task of rbuild shares with the others it runs (isolate()): a
network namespace of its own, with only loopback, and a mount namespace in
which /dev is the small one a sandbox sees. The sandbox runner then starts
bwrap through it without a network namespace or a /dev of bwrap's own, the
two dearest parts of a bwrap start. rbuild gives each running task a helper
of its own, so two tasks never share a network at the same time.
"""

import errno
import os
import selectors
import signal
import sys
import time

# Python ignores SIGPIPE and SIGXFSZ itself, and an ignored signal stays ignored across exec.
DEFAULT_SIGNALS = {signal.SIGPIPE, signal.SIGXFSZ}

# How long a task's group has after SIGTERM before SIGKILL: spawn-group.ts's KILL_GRACE_MS.
KILL_GRACE_S = 2.0
# How long it waits for them to go after SIGKILL before it exits all the same.
KILLED_WAIT_S = 5.0


class RbuildGone(Exception):
    """What the helper writes has nowhere to go: rbuild is gone."""


def send(data):
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(1, view):]
        except InterruptedError:
            continue
        except OSError:
            raise RbuildGone()


def live_groups(groups):
    """Those of `groups` (process group ids) that have a process that is not a zombie, from /proc."""
    live = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as file:
                stat = file.read()
        except OSError:
            continue  # It exited while we looked.
        fields = stat[stat.rfind(b")") + 2:].split(b" ")
        if len(fields) > 2 and fields[0] not in (b"Z", b"X") and int(fields[2]) in groups:
            live.add(int(fields[2]))
    return live


def start_time(pid):
    """Field 22 of /proc/<pid>/stat (clock ticks after boot), which tells it from a later process given its pid; b"" without /proc."""
    try:
        with open(b"/proc/%d/stat" % pid, "rb") as stat_file:
            stat = stat_file.read()
        started = stat[stat.rindex(b")") + 2:].split(b" ")[19]
    except (OSError, ValueError, IndexError):
        return b""
    return started if started.isdigit() else b""


def signal_group(pgid, signum):
    try:
        os.killpg(pgid, signum)
    except OSError:
        pass  # Gone already.


def program_path(name, search):
    """Where execvp would find `name` on `search` (a PATH), or None."""
    if b"/" in name:
        return name
    for directory in (search if search is not None else b"/bin:/usr/bin").split(b":"):
        candidate = os.path.join(directory or b".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


class RequestError(Exception):
    """A request that cannot be carried out: its task fails with this message."""


def os_error_message(error):
    """What a task that could not start because of `error` says, with what to do where there is something."""
    if error.errno == errno.EMFILE:
        return "too many open files: raise `ulimit -n` or lower -j"
    if error.errno == errno.ENFILE:
        return "the system has too many open files: lower -j, or raise its limit (fs.file-max)"
    return error.strerror or str(error)


def spawn_program(argv, env, task_path, actions):
    """Starts argv[0], found on `task_path`, in a process group of its own; returns its pid."""
    try:
        return os.posix_spawnp(argv[0], argv, env, setpgroup=0, setsigdef=DEFAULT_SIGNALS, file_actions=actions)
    except OSError as error:
        # A file without #! runs in /bin/sh, as execvp runs it (posix_spawnp does not).
        found = error.errno == errno.ENOEXEC and program_path(argv[0], task_path)
        if not found:
            raise
        return os.posix_spawn(b"/bin/sh", [b"/bin/sh", found] + argv[1:], env, setpgroup=0, setsigdef=DEFAULT_SIGNALS, file_actions=actions)


# From <linux/sched.h>, <linux/mount.h>, <linux/sockios.h> and <net/if.h>: the same on every Linux architecture.
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_SLAVE = 0x1, 0x2, 0x4, 0x8, 0x20, 0x1000, 0x2000, 0x4000, 0x80000
MNT_DETACH = 0x2
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1

# What bwrap's --dev makes (bubblewrap 0.8, setup_newroot): these host devices bound, and these links.
DEVICES = ["null", "zero", "full", "random", "urandom", "tty"]
DEVICE_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx", "core": "/proc/kcore"}


def isolate():
    """Moves this process into a network namespace with only loopback (up), and a mount namespace whose /dev is
    a sandbox's: a tmpfs with the host's null, zero, full, random, urandom and tty bound in it, a devpts of its
    own, a shm and the usual links, read-only once made. Not root, it makes a user namespace first, with only its own uid and
    gid mapped, as bwrap does. The host's /dev/shm is bound at /dev/shm (see below). Raises OSError saying which
    step failed.

    The /dev is made on a tmpfs over /tmp for a moment, then moved to /dev, so that the host's /dev and /sys can
    go from this namespace first where they may (as root; in a user namespace they are locked in): bwrap copies,
    moves and detaches every mount of the namespace it starts in, once per task, and these 17 of this host's 29
    took it about 0.5 ms a task (bench/sandbox-profile.mjs). No sandbox binds /sys."""
    import ctypes
    import fcntl
    import socket
    import struct

    libc = ctypes.CDLL(None, use_errno=True)

    def call(what, result):
        if result != 0:
            code = ctypes.get_errno()
            raise OSError(code, "%s: %s" % (what, os.strerror(code)))

    def mount(source, target, fstype, flags, data):
        arg = lambda text: None if text is None else os.fsencode(text)
        call("mount %s on %s" % (fstype or source, target), libc.mount(arg(source), arg(target), arg(fstype), ctypes.c_ulong(flags), arg(data)))

    uid, gid = os.geteuid(), os.getegid()
    if uid == 0 and libc.unshare(ctypes.c_int(CLONE_NEWNS | CLONE_NEWNET)) == 0:
        pass
    else:
        # Not root, or a root without CAP_SYS_ADMIN (a container): its own user namespace first.
        call("unshare", libc.unshare(ctypes.c_int(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET)))
        for name, text in (("setgroups", "deny"), ("uid_map", "%d %d 1" % (uid, uid)), ("gid_map", "%d %d 1" % (gid, gid))):
            with open("/proc/self/" + name, "w") as file:
                file.write(text)
    # Nothing mounted here reaches the host's namespace.
    mount(None, "/", None, MS_REC | MS_SLAVE, None)
    stage = "/tmp"
    mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755")
    for name in DEVICES:
        os.close(os.open("%s/%s" % (stage, name), os.O_CREAT | os.O_WRONLY, 0o666))
        mount("/dev/" + name, "%s/%s" % (stage, name), None, MS_BIND, None)
    for name in ("shm", "pts"):
        os.mkdir("%s/%s" % (stage, name), 0o755)
    # The host's /dev/shm stays in view for bwrap, which binds sandbox trees' bases from there (sandbox-tree.ts);
    # each task gets a /dev/shm of its own over it (bwrap.ts freshArgs).
    if os.path.isdir("/dev/shm"):
        mount("/dev/shm", stage + "/shm", None, MS_BIND | MS_REC, None)
    mount("devpts", stage + "/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")
    for name, target in DEVICE_LINKS.items():
        os.symlink(target, "%s/%s" % (stage, name))
    # What may go goes (see above): a locked mount stays, and the /dev made here then covers the host's.
    for gone in (b"/dev", b"/sys"):
        libc.umount2(gone, ctypes.c_int(MNT_DETACH))
    mount(stage, "/dev", None, MS_MOVE, None)
    # Read-only: every task this helper starts binds this /dev, so a file, link or directory one made in it
    # (or a link it replaced: /dev/stdout) would be there for the next. Its devices, devpts and shm stay writable.
    mount(None, "/dev", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, None)
    # A new network namespace's loopback is down: bring it up (127.0.0.1 and ::1 come with it).
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


class Helper:
    def __init__(self):
        self.selector = selectors.DefaultSelector()
        self.null = os.open("/dev/null", os.O_RDONLY)
        self.tasks = {}  # id -> [pid, stdout fd or None, stderr fd or None, wait status or None]
        self.by_pid = {}  # pid -> id
        self.path = os.environ.get("PATH")
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        self.wake = wake_r
        self.selector.register(0, selectors.EVENT_READ, "requests")
        self.selector.register(wake_r, selectors.EVENT_READ, "wake")
        self.pending = bytearray()

    def fail(self, id, message):
        data = message.encode(errors="replace")
        send(b"F %d %d\n" % (id, len(data)) + data)

    def start(self, id, payload):
        """Starts one request's process. Whatever stops it fails that request alone: the helper goes on."""
        try:
            self.spawn(id, payload)
        except RequestError as error:
            self.fail(id, str(error))
        except OSError as error:
            self.fail(id, os_error_message(error))
        except (ValueError, IndexError) as error:
            self.fail(id, "rbuild's process helper was sent a bad request: %s" % error)

    def spawn(self, id, payload):
        fields = payload.split(b"\0")
        cwd, umask, argc = fields[0], int(fields[1].decode(), 8), int(fields[2])
        argv = fields[3:3 + argc]
        if not argv or not argv[0]:
            raise RequestError("there is no program to run (the command is empty)")
        env = {}
        for field in fields[3 + argc:]:
            name, _, value = field.partition(b"=")
            if not name:
                # execve would take it, but posix_spawn refuses it, as does a shell.
                raise RequestError('its environment has a variable whose name is empty or starts with "=": remove it')
            env[name] = value
        try:
            os.chdir(cwd)
        except OSError as error:
            raise RequestError("cannot change to %s: %s" % (os.fsdecode(cwd), error.strerror))
        os.umask(umask)
        # posix_spawnp searches the helper's own PATH: take on the task's.
        task_path = env.get(b"PATH")
        if task_path != self.path:
            if task_path is None:
                os.environb.pop(b"PATH", None)
            else:
                os.environb[b"PATH"] = task_path
            self.path = task_path
        opened = []  # Closed again if it does not start: out of descriptors, the next request may find some.
        try:
            out_r, out_w = os.pipe()
            opened += [out_r, out_w]
            err_r, err_w = os.pipe()
            opened += [err_r, err_w]
            actions = [(os.POSIX_SPAWN_DUP2, self.null, 0), (os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2)]
            pid = spawn_program(argv, env, task_path, actions)
        except BaseException:
            for fd in opened:
                os.close(fd)
            raise
        os.close(out_w)
        os.close(err_w)
        try:
            self.selector.register(out_r, selectors.EVENT_READ, (id, 1, b"O"))
            self.selector.register(err_r, selectors.EVENT_READ, (id, 2, b"E"))
        except OSError:
            # It cannot be relayed: stop it before it does anything (reap() collects it).
            os.killpg(pid, signal.SIGKILL)
            for fd in (out_r, err_r):
                if fd in self.selector.get_map():
                    self.selector.unregister(fd)
                os.close(fd)
            raise
        self.tasks[id] = [pid, out_r, err_r, None]
        self.by_pid[pid] = id
        # Read before reap() can collect it (the pid cannot be another process's yet): rbuild records it.
        started = start_time(pid)
        send(b"S %d %d %s\n" % (id, pid, started) if started else b"S %d %d\n" % (id, pid))

    def finish(self, id):
        """Reports a task's end once it has exited and both its pipes are closed."""
        task = self.tasks[id]
        if task[3] is None or task[1] is not None or task[2] is not None:
            return
        del self.tasks[id]
        status = task[3]
        if os.WIFSIGNALED(status):
            send(b"X %d s %d\n" % (id, os.WTERMSIG(status)))
        else:
            send(b"X %d e %d\n" % (id, os.WEXITSTATUS(status)))

    def reap(self):
        while self.by_pid:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            id = self.by_pid.pop(pid, None)
            if id is not None:
                self.tasks[id][3] = status
                self.finish(id)

    def relay(self, id, which, kind):
        task = self.tasks[id]
        data = os.read(task[which], 65536)
        if data:
            send(b"%s %d %d\n" % (kind, id, len(data)) + data)
            return
        self.selector.unregister(task[which])
        os.close(task[which])
        task[which] = None
        self.finish(id)

    def stop_all(self):
        """rbuild is gone: stops the group of every task still running, SIGKILL after the grace period, and waits for them."""
        signal.set_wakeup_fd(-1)  # Nothing reads it now: a full pipe would only make Python complain.
        groups = set(task[0] for task in self.tasks.values())
        for pgid in groups:
            signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + KILL_GRACE_S
        killed = False
        while True:
            self.collect()
            groups = live_groups(groups)
            if not groups:
                return
            if time.monotonic() > deadline:
                if killed:
                    return  # Killed and still there (uninterruptible sleep): nothing more the helper can do.
                for pgid in groups:
                    signal_group(pgid, signal.SIGKILL)
                killed = True
                deadline = time.monotonic() + KILLED_WAIT_S
            time.sleep(0.01)

    def collect(self):
        """Reaps ended children without reporting them (a group whose leader is a zombie is not live)."""
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def read_requests(self):
        """Reads `R <id> <len>\\n<payload>` requests and `P` pings; returns False at end of input."""
        data = os.read(0, 65536)
        if not data:
            return False
        self.pending += data
        while True:
            newline = self.pending.find(b"\n")
            if newline < 0:
                return True
            header = bytes(self.pending[:newline]).split(b" ")
            if header == [b"P"]:
                # rbuild asks whether the helper still answers (it is not stopped): it does.
                del self.pending[:newline + 1]
                send(b"P\n")
                continue
            if len(header) != 3 or header[0] != b"R":
                sys.stderr.write("rbuild process helper: bad request %r\n" % bytes(self.pending[:newline]))
                sys.exit(2)
            end = newline + 1 + int(header[2])
            if len(self.pending) < end:
                return True
            payload = bytes(self.pending[newline + 1:end])
            del self.pending[:end]
            self.start(int(header[1]), payload)

    def serve(self):
        while True:
            for key, _ in self.selector.select():
                if key.data == "requests":
                    if not self.read_requests():
                        return
                elif key.data == "wake":
                    try:
                        os.read(self.wake, 4096)
                    except BlockingIOError:
                        pass
                else:
                    self.relay(*key.data)
            self.reap()


if __name__ == "__main__":
    if not hasattr(os, "posix_spawnp"):
        sys.stderr.write("rbuild process helper: this python has no os.posix_spawnp (3.8 or later is needed)\n")
        sys.exit(3)
    if sys.argv[1:] == ["--sandbox"]:
        try:
            isolate()
        except OSError as error:
            sys.stderr.write("rbuild process helper: cannot make the sandbox's namespaces here: %s\n" % error)
            sys.exit(4)
    helper = Helper()
    try:
        send(b"H\n")
        helper.serve()
    except RbuildGone:
        pass
    helper.stop_all()
