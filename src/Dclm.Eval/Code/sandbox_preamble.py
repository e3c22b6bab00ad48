# Runs program.py from the current directory under limits. Arguments: memory bytes, CPU seconds,
# drop privileges (1/0). The kernel-level limits (rlimits, uid drop) hold against any code; the
# Python-level guards below them only stop ordinary library calls and can be bypassed (e.g. ctypes).
import builtins, io, os, resource, shutil, socket, subprocess, sys

def _main():
    memory, cpu_seconds, drop = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
    try:
        os.setsid()
    except OSError:
        pass

    def limit(kind, value):
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass

    limit(resource.RLIMIT_AS, memory)
    limit(resource.RLIMIT_CPU, cpu_seconds)
    limit(resource.RLIMIT_FSIZE, 16 << 20)
    limit(resource.RLIMIT_CORE, 0)
    limit(resource.RLIMIT_NOFILE, 64)
    root = os.path.realpath(os.getcwd())
    if drop and os.getuid() == 0:
        os.chown(root, 65534, 65534)
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    # No new processes or threads: the limit counts the user's processes, which are already more than 0.
    # (Root is exempt from this limit, hence the drop above.)
    limit(resource.RLIMIT_NPROC, 0)

    with open("program.py", encoding="utf-8") as f:
        code = compile(f.read(), "program.py", "exec")

    def denied(what):
        def refuse(*args, **kwargs):
            raise PermissionError(what + " is disabled in the sandbox")
        return refuse

    class NoSocket:
        def __init__(self, *args, **kwargs):
            raise PermissionError("network access is disabled in the sandbox")

    import _socket
    socket.socket = _socket.socket = NoSocket
    for name in ("create_connection", "create_server", "socketpair", "fromfd", "getaddrinfo"):
        setattr(socket, name, denied("network access"))
    for name in ("fork", "forkpty", "system", "popen", "execv", "execve", "execvp", "execvpe", "execl", "execle",
                 "execlp", "execlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe", "spawnl", "spawnle", "spawnlp",
                 "spawnlpe", "posix_spawn", "posix_spawnp", "kill", "killpg", "setuid", "setgid", "chroot", "putenv"):
        if hasattr(os, name):
            setattr(os, name, denied("os." + name))
    subprocess.Popen = denied("subprocess")
    shutil.rmtree = denied("shutil.rmtree")

    def inside(path):
        if isinstance(path, int):
            return True
        full = os.path.realpath(os.fsdecode(os.fspath(path)))
        return full == root or full.startswith(root + os.sep)

    real_open = builtins.open
    def guarded_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+") and not inside(file):
            raise PermissionError("writing outside the sandbox directory is disabled: " + str(file))
        return real_open(file, mode, *args, **kwargs)
    builtins.open = io.open = guarded_open

    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    real_os_open = os.open
    def guarded_os_open(path, flags, *args, **kwargs):
        if flags & writing and not inside(path):
            raise PermissionError("writing outside the sandbox directory is disabled: " + str(path))
        return real_os_open(path, flags, *args, **kwargs)
    os.open = guarded_os_open

    def guard_paths(name, count):
        real = getattr(os, name)
        def guarded(*args, **kwargs):
            for path in args[:count]:
                if not inside(path):
                    raise PermissionError("changing files outside the sandbox directory is disabled: " + str(path))
            return real(*args, **kwargs)
        setattr(os, name, guarded)
    for name, count in (("remove", 1), ("unlink", 1), ("rmdir", 1), ("removedirs", 1), ("mkdir", 1), ("makedirs", 1),
                        ("chmod", 1), ("chown", 1), ("truncate", 1), ("rename", 2), ("renames", 2), ("replace", 2),
                        ("link", 2), ("symlink", 2)):
        if hasattr(os, name):
            guard_paths(name, count)

    sys.argv = ["program.py"]
    exec(code, {"__name__": "__main__", "__builtins__": builtins})

_main()
