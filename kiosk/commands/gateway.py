"""``kiosk gateway``: the terminal gateway (前置服务) and its fleet console.

    kiosk gateway serve [--host H] [--port P] [--database URL] [--adapter sim|MODULE:FACTORY]
    kiosk gateway terminal add ID --secret-file F [--name N] [--township T]
    kiosk gateway terminal list
    kiosk gateway user add NAME --role technician|supervisor [--password-file F]
    kiosk gateway db check

``serve`` prints the URL it serves as the first line on stdout and stops on SIGTERM/SIGINT.
The database is ``--database``, else ``$KIOSK_GATEWAY_DATABASE``, else ``sqlite:///var/gateway.db``
(embedded, nothing to install); production uses ``postgresql://user@host/db``. The adapter is
the government platform behind the gateway: ``sim`` is the simulated one (demo residents);
a province's is ``package.module:factory`` (see docs/gateway.md).
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

from kiosk.errors import ConfigError

DEFAULT_DATABASE = "sqlite:///var/gateway.db"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gateway", help="the terminal gateway and the fleet console")
    gsub = p.add_subparsers(dest="gateway_command", metavar="ACTION", required=True)

    s = gsub.add_parser("serve", help="serve the terminal API and the console until SIGTERM/SIGINT")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8765, help="port (0: any free port; default 8765)")
    _database(s)
    s.add_argument("--adapter", default=os.environ.get("KIOSK_GATEWAY_ADAPTER", "sim"),
                   help="the platform: sim (simulated) or MODULE:FACTORY (default $KIOSK_GATEWAY_ADAPTER or sim)")
    s.add_argument("--data", type=Path, default=Path("var/platform"),
                   help="the simulated platform's folder (--adapter sim; default var/platform)")
    s.add_argument("--terminal", action="append", default=[], metavar="ID=SECRET_FILE",
                   help="provision a terminal with the secret in the file before serving (repeatable)")
    s.add_argument("--tls-cert", type=Path, help="serve HTTPS with this PEM certificate (chain)")
    s.add_argument("--tls-key", type=Path, help="the certificate's PEM private key")
    s.add_argument("--allow-insecure-bind", action="store_true",
                   help="serve plain HTTP on a non-loopback address (a TLS proxy or a closed network)")
    s.add_argument("--public-url", default="", help="the URL terminals use (certificates' links)")
    s.add_argument("--workers", type=int, default=1, help="processes sharing the port (default 1)")
    s.add_argument("--threads", type=int, default=32, help="worker threads per process (default 32)")
    s.add_argument("--max-connections", type=int, default=4096, help="connections per process")
    s.add_argument("--offline-after", type=float, default=180.0, metavar="S",
                   help="a terminal is offline after S seconds without a heartbeat (default 180)")
    s.add_argument("--auto-pay", type=float, default=None, metavar="S",
                   help="--adapter sim: payment orders pay themselves after S seconds")
    s.set_defaults(func=serve)

    t = gsub.add_parser("terminal", help="provision terminals")
    tsub = t.add_subparsers(dest="terminal_command", metavar="ACTION", required=True)
    add = tsub.add_parser("add", help="add a terminal or give it a new secret")
    add.add_argument("terminal_id")
    add.add_argument("--secret-file", type=Path, required=True, help="file holding the terminal's secret")
    add.add_argument("--name", default="", help="where it stands, e.g. 葛石镇便民服务中心")
    add.add_argument("--township", default="", help="乡镇/街道, for the console's filter")
    _database(add)
    add.set_defaults(func=terminal_add)
    ls = tsub.add_parser("list", help="the provisioned terminals")
    _database(ls)
    ls.set_defaults(func=terminal_list)

    u = gsub.add_parser("user", help="console accounts")
    usub = u.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    uadd = usub.add_parser("add", help="create an account, or set its password and role")
    uadd.add_argument("username")
    uadd.add_argument("--role", choices=("technician", "supervisor"), required=True)
    uadd.add_argument("--name", default="", help="the name shown on the console")
    uadd.add_argument("--password-file", type=Path,
                      help="read the password from this file (default: asked on the terminal)")
    _database(uadd)
    uadd.set_defaults(func=user_add)

    d = gsub.add_parser("db", help="the gateway's database")
    dsub = d.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    check = dsub.add_parser("check", help="create the tables if new; exit 1 on a schema of another version")
    _database(check)
    check.set_defaults(func=db_check)


def _database(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database", default=None, metavar="URL",
                   help=f"database URL (default $KIOSK_GATEWAY_DATABASE or {DEFAULT_DATABASE})")


def database_url(args: argparse.Namespace) -> str:
    url = args.database or os.environ.get("KIOSK_GATEWAY_DATABASE") or DEFAULT_DATABASE
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    return url


def _store(args: argparse.Namespace, **kw: Any) -> Any:
    from kiosk.gateway.store import Store

    return Store(database_url(args), **kw)


def _secret(path: Path) -> bytes:
    try:
        secret = path.read_text().strip()
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
    if len(secret) < 16:
        raise ConfigError(f"{path}: a terminal secret has at least 16 characters")
    return secret.encode()


def load_adapter(spec: str, args: argparse.Namespace) -> Any:
    from kiosk.gateway.adapter import METHODS

    if spec == "sim":
        from kiosk.sim.backend.adapter import SimulatedPlatform

        platform: Any = SimulatedPlatform(args.data)
        platform.auto_pay_after_s = args.auto_pay
        return platform
    module, sep, factory = spec.partition(":")
    if not sep:
        raise ConfigError(f"--adapter {spec!r}: expected sim or MODULE:FACTORY")
    try:
        platform = getattr(importlib.import_module(module), factory)()
    except (ImportError, AttributeError) as e:
        raise ConfigError(f"--adapter {spec}: {e}") from None
    missing = [name for name in METHODS if not callable(getattr(platform, name, None))]
    if missing:
        raise ConfigError(f"--adapter {spec}: the platform lacks {', '.join(missing)}")
    return platform


def serve(args: argparse.Namespace) -> int:
    from kiosk.gateway.app import Gateway
    from kiosk.gateway.server import Limits, Server, bind, check_bind

    check_bind(args.host, tls=args.tls_cert is not None, allow_insecure=args.allow_insecure_bind)
    if args.workers < 1:
        raise ConfigError("--workers: at least 1")
    terminals = {}
    for spec in args.terminal:
        tid, sep, path = spec.partition("=")
        if not sep or not tid or not path:
            raise ConfigError(f"--terminal {spec!r}: expected ID=SECRET_FILE")
        terminals[tid] = _secret(Path(path))
    store = _store(args)  # creates or checks the schema once, before any worker starts
    for tid, secret in terminals.items():
        store.provision(tid, secret)
    store.close()
    try:
        sock = bind(args.host, args.port)
    except OSError as e:
        raise ConfigError(f"cannot serve on {args.host}:{args.port}: {e}") from None
    limits = Limits(threads=args.threads, max_connections=args.max_connections)

    url = f"{'https' if args.tls_cert else 'http'}://{_shown(sock)}"

    def run_one() -> int:
        from kiosk.gateway.store import Store

        worker_store = Store(database_url(args), pool_size=args.threads + 2)
        platform = load_adapter(args.adapter, args)
        gateway = Gateway(worker_store, platform, offline_after_s=args.offline_after,
                          public_url=args.public_url or url, secure_cookies=args.tls_cert is not None)
        if hasattr(platform, "public_url"):
            platform.public_url = gateway.public_url
        Server(gateway.asgi, args.host, args.port, limits=limits, tls_cert=args.tls_cert,
               tls_key=args.tls_key, allow_insecure_bind=args.allow_insecure_bind, sock=sock).run()
        worker_store.close()
        return 0

    print(url, flush=True)
    print(f"gateway: database {_redacted(database_url(args))}, platform {args.adapter}, "
          f"{args.workers} process(es)", file=sys.stderr, flush=True)
    if args.workers == 1:
        return run_one()
    children = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = run_one()
            finally:
                os._exit(code)
        children.append(pid)
    stop = {"sig": 0}

    def forward(sig: int, _frame: Any) -> None:
        stop["sig"] = sig
        for pid in children:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    worst = 0
    for pid in children:
        _pid, status = os.waitpid(pid, 0)
        worst = max(worst, os.waitstatus_to_exitcode(status) if not stop["sig"] else 0)
    return worst


def _shown(sock: Any) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for a log line
        return "(unparsable URL)"


def terminal_add(args: argparse.Namespace) -> int:
    store = _store(args, pool_size=1)
    store.provision(args.terminal_id, _secret(args.secret_file), name=args.name, township=args.township)
    store.close()
    print(f"terminal {args.terminal_id} provisioned")
    return 0


def terminal_list(args: argparse.Namespace) -> int:
    store = _store(args, pool_size=1)
    for tid in store.terminal_ids():
        print(tid)
    store.close()
    return 0


def user_add(args: argparse.Namespace) -> int:
    from kiosk.gateway import accounts

    if args.password_file is not None:
        try:
            password = args.password_file.read_text().rstrip("\n")
        except OSError as e:
            raise ConfigError(f"cannot read {args.password_file}: {e.strerror}") from None
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("the two passwords differ")
    store = _store(args, pool_size=1)
    try:
        with store.write() as conn:
            accounts.create_user(conn, args.username, password, args.role, args.name)
            accounts.record(conn, "(command line)", "user_add", args.username, f"role {args.role}")
    except accounts.AccountError as e:
        raise ConfigError(str(e)) from None
    finally:
        store.close()
    print(f"account {args.username} ({args.role}) ready")
    return 0


def db_check(args: argparse.Namespace) -> int:
    from kiosk.gateway.schema import SCHEMA_VERSION

    store = _store(args, pool_size=1)
    store.close()
    print(f"schema version {SCHEMA_VERSION}: ok")
    return 0
