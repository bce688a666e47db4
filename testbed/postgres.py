"""A throwaway PostgreSQL cluster for the tests and the demo: own port, own directory.

PostgreSQL refuses to run as root, and the tests run as root on the CI machine, so then
initdb and the server run as the `postgres` system user (which Debian's package creates).
The server runs in the foreground as our child (not through `pg_ctl start`, which detaches it),
so that it dies with a crashed test run instead of lingering.
"""

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from testbed._process import die_with_parent, free_port, stop_process, tail, wait_until

INSTALL_HINT = "install it with: apt-get install postgresql"
USER = "ganetiweb"
DATABASE = "ganetiweb"
START_TIMEOUT = 30
PORT_ATTEMPTS = 3
FALLBACK_PREFIX = "ganetiweb-postgres-"
STALE_AFTER = 600  # seconds; a cluster being created is younger
# A Unix socket path must fit in 107 bytes; leave room for "/.s.PGSQL.65535".
MAX_ROOT_LENGTH = 90
# Durability is worthless for a cluster that is deleted after the run; speed is not.
FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "jit": "off",
    "listen_addresses": "127.0.0.1",
    "unix_socket_permissions": "0700",
}


@dataclass
class PostgresServer:
    """A running postgres child process; `stop()` ends it and deletes its cluster."""

    port: int
    password: str
    root: Path
    process: subprocess.Popen
    user: str = USER
    database: str = DATABASE

    @property
    def url(self) -> str:
        return f"postgres://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def stop(self) -> None:
        stop_process(self.process, signal.SIGINT)  # SIGINT is PostgreSQL's "fast" shutdown
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres(workdir: Path) -> PostgresServer:
    """Create a cluster under `workdir`, start it on a free port, create the database.

    If the `postgres` user cannot reach `workdir` (pytest's temporary directories are private
    to root) the cluster goes to a new directory under /tmp instead; `.root` says where.
    """
    bindir = _find_bindir()
    owner = _server_owner()
    root = _make_root(workdir, owner)
    password = secrets.token_urlsafe(16)
    try:
        _initdb(bindir, root, owner, password)
        server = _start_on_free_port(bindir, root, owner, password)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        _create_database(server)
    except BaseException:
        server.stop()
        raise
    return server


def _find_bindir() -> Path:
    """The newest installed server's bin directory, e.g. /usr/lib/postgresql/15/bin."""
    initdbs = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not initdbs:
        raise RuntimeError(
            f"PostgreSQL: initdb not found in /usr/lib/postgresql/*/bin; {INSTALL_HINT}"
        )
    newest = max(initdbs, key=lambda path: int(Path(path).parts[-3]))
    return Path(newest).parent


def _server_owner() -> pwd.struct_passwd | None:
    """The user to run PostgreSQL as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "PostgreSQL: refuses to run as root and there is no 'postgres' user to run it as; "
            + INSTALL_HINT
        ) from None


def _as_owner(owner: pwd.struct_passwd | None) -> dict:
    """subprocess arguments that run a command as `owner`, without su, sudo or PAM."""
    if owner is None:
        return {}
    return {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}


def _make_root(workdir: Path, owner: pwd.struct_passwd | None) -> Path:
    """A new directory for the data, the socket and the log, owned by the server's user."""
    workdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="postgres-", dir=workdir))
    if _usable_root(root, owner):
        return root
    root.rmdir()
    _remove_stale_fallback_roots()
    root = Path(tempfile.mkdtemp(prefix=FALLBACK_PREFIX))
    if not _usable_root(root, owner):
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL: no directory the server's user can write ({root})")
    return root


def _usable_root(root: Path, owner: pwd.struct_passwd | None) -> bool:
    """Give `root` to the server's user and check that it can get there through the parents."""
    if len(str(root)) > MAX_ROOT_LENGTH:
        return False
    if owner is None:
        return True
    os.chown(root, owner.pw_uid, owner.pw_gid)
    check = subprocess.run(["test", "-w", str(root)], check=False, **_as_owner(owner))
    return check.returncode == 0


def _remove_stale_fallback_roots() -> None:
    """Delete the clusters in /tmp whose test run was killed before it could remove them."""
    for root in Path(tempfile.gettempdir()).glob(FALLBACK_PREFIX + "*"):
        if _is_stale(root):
            shutil.rmtree(root, ignore_errors=True)


def _is_stale(root: Path) -> bool:
    """Old enough not to be starting up, and no live postmaster in it."""
    try:
        if time.time() - root.stat().st_mtime < STALE_AFTER:
            return False
        pid = int((root / "data" / "postmaster.pid").read_text().split()[0])
    except FileNotFoundError:
        return True
    except (OSError, ValueError, IndexError):
        return False  # not ours to judge, e.g. another user's
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _initdb(bindir: Path, root: Path, owner: pwd.struct_passwd | None, password: str) -> None:
    """Create the cluster: superuser USER with `password` over TCP, trust on the socket."""
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if owner is not None:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    args = [
        str(bindir / "initdb"),
        "--pgdata", str(root / "data"),
        "--username", USER,
        "--pwfile", str(pwfile),
        "--auth-host", "scram-sha-256",
        "--auth-local", "trust",
        "--encoding", "UTF8",
        "--locale", "C",
        "--no-sync",
        "--no-instructions",
    ]  # fmt: skip
    try:
        result = subprocess.run(
            args, cwd=root, capture_output=True, text=True, check=False, **_as_owner(owner)
        )
    finally:
        pwfile.unlink()
    if result.returncode != 0:
        raise RuntimeError(f"PostgreSQL: initdb failed:\n{result.stdout}{result.stderr}")


def _start_on_free_port(
    bindir: Path, root: Path, owner: pwd.struct_passwd | None, password: str
) -> PostgresServer:
    """Start the server; pick another port if someone took ours before the server bound it."""
    log = root / "postgres.log"
    for _ in range(PORT_ATTEMPTS):
        port = free_port()
        process = _launch(bindir, root, owner, port)
        server = PostgresServer(port=port, password=password, root=root, process=process)
        if wait_until(lambda s=server: _accepts_connections(s), process, START_TIMEOUT):
            return server
        stop_process(process, signal.SIGINT)
        if "could not bind" not in tail(log):
            break
    raise RuntimeError(f"PostgreSQL: the server did not start; its log says:\n{tail(log)}")


def _launch(
    bindir: Path, root: Path, owner: pwd.struct_passwd | None, port: int
) -> subprocess.Popen:
    args = [str(bindir / "postgres"), "-D", str(root / "data"), "-p", str(port)]
    settings = {**FAST_SETTINGS, "unix_socket_directories": str(root)}
    for name, value in settings.items():
        args += ["-c", f"{name}={value}"]
    with open(root / "postgres.log", "ab") as log:
        process = subprocess.Popen(
            args,
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # SIGQUIT is the immediate shutdown: the data is thrown away anyway.
            preexec_fn=die_with_parent(signal.SIGQUIT),
            **_as_owner(owner),
        )
    return process


def _connect(server: PostgresServer, database: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(
        host="127.0.0.1",
        port=server.port,
        user=server.user,
        password=server.password,
        dbname=database,
        connect_timeout=2,
        **kwargs,
    )


def _accepts_connections(server: PostgresServer) -> bool:
    try:
        _connect(server, "postgres").close()
    except psycopg.OperationalError:
        return False
    return True


def _create_database(server: PostgresServer) -> None:
    """The application's database; Django's test runner creates test_<name> beside it."""
    try:
        with _connect(server, "postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(server.database)))
    except psycopg.Error as exc:
        raise RuntimeError(f"PostgreSQL: could not create the database: {exc}") from exc
