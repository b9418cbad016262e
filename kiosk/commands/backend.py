"""``kiosk backend serve``: run the reference backend (the gateway with the simulated platform
behind it) until stopped.

The first line on stdout is the URL it serves, so a script can start it with ``--port 0`` and
read where it is. ``--terminal ID=SECRET_FILE`` (repeatable) sets which terminals may call it.
Without it, the terminal of the kiosk config (``--config``, default ``config/kiosk.toml``) is
accepted with that config's secret, so ``kiosk backend serve`` and ``kiosk run`` on one machine
agree. There is no built-in secret: if that secret cannot be read, it refuses to start.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from kiosk.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backend", help="the reference backend (simulated government platform)")
    bsub = p.add_subparsers(dest="backend_command", metavar="ACTION", required=True)
    s = bsub.add_parser("serve", help="serve the backend API on loopback until SIGTERM/SIGINT")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8765, help="port (0: any free port; default 8765)")
    s.add_argument(
        "--data", type=Path, default=None, help="state folder (default: a temporary one)"
    )
    s.add_argument(
        "--terminal",
        action="append",
        default=[],
        metavar="ID=SECRET_FILE",
        help="a terminal allowed to call, with the file holding its secret (repeatable)",
    )
    s.add_argument(
        "--config", help="kiosk config whose terminal and secret to accept (no --terminal)"
    )
    s.add_argument("--tls-cert", type=Path, help="serve HTTPS with this PEM certificate (chain)")
    s.add_argument("--tls-key", type=Path, help="the certificate's PEM private key")
    s.add_argument(
        "--auto-pay",
        type=float,
        default=None,
        metavar="S",
        help="demo: payment orders pay themselves after S seconds",
    )
    s.set_defaults(func=serve)


def _terminals(specs: list[str]) -> dict[str, bytes] | None:
    if not specs:
        return None
    out: dict[str, bytes] = {}
    for spec in specs:
        tid, sep, path = spec.partition("=")
        if not sep or not tid or not path:
            raise ConfigError(f"--terminal {spec!r}: expected ID=SECRET_FILE")
        try:
            secret = Path(path).read_text().strip()
        except OSError as e:
            raise ConfigError(f"--terminal {tid}: cannot read {path}: {e.strerror}") from None
        if not secret:
            raise ConfigError(f"--terminal {tid}: {path} is empty")
        out[tid] = secret.encode()
    return out


def _from_config(path: str | None) -> dict[str, bytes]:
    from kiosk.config import load_config

    try:
        cfg = load_config(path)
        return {cfg.terminal.id: cfg.terminal_secret()}
    except ConfigError as e:
        raise ConfigError(
            f"no terminal to accept: {e}. Name one with --terminal ID=SECRET_FILE "
            "(there is no built-in secret)"
        ) from None


def serve(args: argparse.Namespace) -> int:
    from kiosk.sim.backend import ReferenceBackend

    if (args.tls_cert is None) != (args.tls_key is None):
        raise ConfigError("--tls-cert and --tls-key go together")
    terminals = _terminals(args.terminal) or _from_config(args.config)
    backend = ReferenceBackend(args.data, terminals)
    backend.auto_pay_after_s = args.auto_pay
    try:
        url = backend.start(args.host, args.port, tls_cert=args.tls_cert, tls_key=args.tls_key)
    except OSError as e:
        backend.close()
        raise ConfigError(f"cannot serve on {args.host}:{args.port}: {e}") from None
    except ConfigError:
        backend.close()
        raise
    done = threading.Event()
    for sig in (
        signal.SIGTERM,
        signal.SIGINT,
    ):  # before the URL is out: a script may stop us at once
        signal.signal(sig, lambda *_: done.set())
    print(url, flush=True)
    print(
        f"reference backend: data in {backend.data_dir}, terminals: {', '.join(terminals)}",
        file=sys.stderr,
        flush=True,
    )
    done.wait()
    backend.close()
    return 0
