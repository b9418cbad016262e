"""``kiosk check-config [PATH]``: validate a config file, exit 0 if good, 1 with the reasons if not.

The same checks ``kiosk run`` makes before it starts: the file itself (``load_config``) and
what it names on this machine (``kiosk.config_checks``): what passes here is never refused there.
"""

from __future__ import annotations

import argparse

from kiosk.config import load_config
from kiosk.config_checks import check_on_host


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-config", help="validate a config file")
    p.add_argument("path", nargs="?", help="config file (default: config/kiosk.toml or $KIOSK_CONFIG)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args.path)  # ConfigError -> message and exit 1 in kiosk.cli
    check_on_host(cfg)
    print(f"{cfg.source}: OK (terminal {cfg.terminal.id}, {cfg.terminal.site_kind})")
    return 0
