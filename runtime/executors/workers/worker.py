# The python worker, preferred when python3 ≥ 3.8 is on PATH: it starts jobs
# with os.posix_spawnp, which glibc, musl and macOS implement with vfork
# semantics, so a job costs no copy of the worker's memory (0.7 ms a job
# against perl's 0.9 ms on this machine). posix_spawn also reports a failed
# exec to the parent as an OSError, so no error pipe is needed.
#
# The worker chdirs itself into the job's cwd before spawning (python's
# posix_spawn has no chdir action; the worker is single-threaded and runs one
# job at a time, and every path it is given is absolute). A job's PATH, when
# the job sets one, is searched here, since posix_spawnp searches the
# worker's. The log is opened with O_NONBLOCK (then made blocking again), so
# a FIFO without a reader fails the job instead of blocking the worker before
# the job has a pid that could be killed. SIGPIPE and SIGXFSZ, which python
# ignores, are reset to default in the child, as subprocess's restore_signals
# does. Run as `python3 -I -S worker.py GRACE_MS` (see ../worker-program.ts):
# no PYTHON* variables, user site or site module can change what it loads.
# It speaks the line protocol of ../pool-protocol.ts.
#
# A python older than 3.8 exits at the check below, before its `R` line, and
# the pool falls back to perl; so this file keeps to syntax that any python3
# parses (no walrus, no f-strings, no positional-only parameters), or an old
# python would stop at a SyntaxError instead of saying what it lacks.
import os, sys, time, signal, select
if sys.version_info < (3, 8) or not hasattr(os, "posix_spawnp"):
    sys.exit("wfc worker: python3 >= 3.8 with os.posix_spawnp is needed, this is " + sys.version.split()[0])
grace = int(sys.argv[1]) / 1000 if len(sys.argv) > 1 else 2.0
# `0` as the second argument (WFC_MEASURE=0): reap with waitpid and send `E` lines without figures.
measure = len(sys.argv) < 3 or sys.argv[2] != "0"
# ru_maxrss is KiB on Linux and the BSDs, bytes on macOS.
rss_unit = 1024 if sys.platform == "darwin" else 1
devnull = os.open("/dev/null", os.O_RDONLY)
restore = tuple(getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name))
# SIGCHLD wakes select() through this pipe, so a job's end and Node's going away are waited for at once.
wake_r, wake_w = os.pipe()
os.set_blocking(wake_r, False)
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda *_: None)

def now():
    return b"%.3f" % (time.time() * 1000)

held = b""
groups = []

def say(*parts):
    global held
    try:
        os.write(1, held + b" ".join(parts) + b"\n")
    except BrokenPipeError:
        orphaned()
    held = b""

inbuf = bytearray()

def fill():
    """Reads what Node sent; False at end of file."""
    chunk = os.read(0, 65536)
    inbuf.extend(chunk)
    return len(chunk) > 0

def read_line():
    while True:
        i = inbuf.find(b"\n")
        if i >= 0:
            line = bytes(inbuf[:i + 1])
            del inbuf[:i + 1]
            return line
        if not fill():
            return b""

def read_exactly(size):
    while len(inbuf) < size and fill():
        pass
    data = bytes(inbuf[:size])
    del inbuf[:size]
    return data

def orphaned():
    """Node is gone (kill -9, a crash) while a job runs: nobody will stop it or read its end, so it goes too."""
    for group in groups:
        try:
            os.killpg(group, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        if not lingering(groups):
            break
        time.sleep(0.02)
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            pass
    remove_spools()
    os._exit(1)

def figures(usage):
    """What `E` says a command used (see ../pool-protocol.ts): user and system CPU in µs, peak RSS in KiB, blocks read and written."""
    if usage is None:
        return b""
    return b" %d %d %d %d %d" % (round(usage.ru_utime * 1e6), round(usage.ru_stime * 1e6), usage.ru_maxrss // rss_unit,
        usage.ru_inblock, usage.ru_oublock)

def wait_job(pid):
    """The job's wait status and rusage (None when not measuring); reads Node's requests meanwhile (a next job), and notices Node going away."""
    while True:
        if measure:
            done, status, usage = os.wait4(pid, os.WNOHANG)
        else:
            (done, status), usage = os.waitpid(pid, os.WNOHANG), None
        if done:
            return status, usage
        ready = select.select([0, wake_r], [], [])[0]
        if wake_r in ready:
            try:
                os.read(wake_r, 512)
            except BlockingIOError:
                pass
        if 0 in ready and not fill():
            orphaned()

def search(name, path):
    if b"/" in name:
        return name
    for folder in path.split(b":"):
        candidate = os.path.join(folder or b".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return name

spools = {}
me = os.getpid()

def open_log(log):
    """The job's log for appending, and the spool linked as the log, if it is one (see process-pool.ts)."""
    folder = os.path.dirname(log)
    spool = os.path.join(folder, b".wfc-spool-%d" % me)
    fd = spools.pop(folder, -1)
    if fd < 0:
        fd = os.open(spool, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        os.link(spool, log)
        return fd, spool
    except OSError:
        spools[folder] = fd
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o666)
    os.set_blocking(fd, True)
    return fd, None

def remove_spools():
    for folder in spools:
        try:
            os.unlink(os.path.join(folder, b".wfc-spool-%d" % me))
        except OSError:
            pass

def lingering(groups):
    """Whether a process of the job's groups still runs (started in the background): it may yet write to the log."""
    for group in groups:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            continue
        except OSError:
            pass
        return True
    return False

def close_log(fd, log, spool, keep, groups=()):
    """A job that succeeded without a word leaves no log; its spool serves the next job."""
    if spool is not None and not keep and os.fstat(fd).st_size == 0 and not lingering(groups):
        try:
            os.unlink(log)
            spools[os.path.dirname(log)] = fd
            return
        except OSError:
            pass
    if spool is not None:
        try:
            os.unlink(spool)
        except OSError:
            pass
    os.close(fd)

say(b"R", b"%d" % me, b"1")
ok = True
while True:
    header = read_line()
    if not header:
        break
    tag, seq, size = header.split(b" ")
    payload = read_exactly(int(size))
    if tag not in (b"J", b"K") or len(payload) != int(size):
        sys.exit("wfc worker: bad or truncated request")
    if tag == b"K" and not ok:
        say(b"X", seq, now())
        continue
    ok = False
    fields = payload.split(b"\0")
    cwd, log, count, at = fields[0], fields[1], int(fields[2]), 3
    try:
        fd, spool = open_log(log)
    except OSError as error:
        say(b"F", seq, now(), (b"cannot open log " + log + b": " + os.fsencode(error.strerror or str(error))).hex().encode())
        continue
    groups = []
    for step in range(count):
        pairs, items = int(fields[at]), int(fields[at + 1])
        names = fields[at + 2:at + 2 + 2 * pairs]
        argv = fields[at + 2 + 2 * pairs:at + 2 + 2 * pairs + items]
        at += 2 + 2 * pairs + items
        env = os.environb
        program = argv[0]
        if pairs:
            env = dict(os.environb)
            for i in range(pairs):
                env[names[2 * i]] = names[2 * i + 1]
                if names[2 * i] == b"PATH":
                    program = search(program, env[b"PATH"])
        try:
            doing = b"cannot change directory to " + cwd
            os.chdir(cwd)
            doing = b"cannot execute " + argv[0]
            t0 = now()
            pid = os.posix_spawnp(program, argv, env, setpgroup=0, setsigdef=restore,
                file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, fd, 1), (os.POSIX_SPAWN_DUP2, fd, 2)])
        except OSError as error:
            message = doing + b": " + os.fsencode(error.strerror or str(error))
            os.write(fd, b"wfc: " + message + b"\n")
            close_log(fd, log, spool, True)
            say(b"F", seq, now(), message.hex().encode())
            break
        groups.append(pid)
        say(b"S", seq, b"%d" % pid, t0)
        status, usage = wait_job(pid)
        t1 = now()
        # The log is final before the job's last line: Node may read it then.
        if status != 0 or step == count - 1:
            close_log(fd, log, spool, status != 0, groups)
        if status == 0 and step < count - 1:
            # Goes with the next command's S: one wake-up of Node per command, not two.
            held = b"E %s 0 %s%s\n" % (seq, t1, figures(usage))
            continue
        say(b"E", seq, b"%d" % status, t1 + figures(usage))
        if status != 0:
            break
    else:
        ok = True
remove_spools()
