"""The ``kiosk`` command: one entry point, subcommands in ``kiosk/commands/``.

Each command module has ``register(subparsers)`` that adds its parser and sets ``func``;
``kiosk device ...`` commands register under the ``device`` group. Heavy imports (kivy,
pyscard, the backend) happen inside the command functions, so ``kiosk check-config`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from kiosk import __version__
from kiosk.errors import KioskError

#: top-level command modules, in the order --help lists them
COMMANDS = (
    "kiosk.commands.run",
    "kiosk.commands.check_config",
    "kiosk.commands.demo",
    "kiosk.commands.journey",
    "kiosk.commands.backend",
    "kiosk.commands.gateway",
    "kiosk.commands.outbox",
    "kiosk.commands.admin",
    "kiosk.commands.soak",
    "kiosk.commands.i18n",
    "kiosk.commands.screenshots",
)
#: technician device commands, under ``kiosk device``
DEVICE_COMMANDS = (
    "kiosk.commands.device_idcard",
    "kiosk.commands.device_sscard",
    "kiosk.commands.device_printer",
    "kiosk.commands.device_ratingpad",
    "kiosk.commands.device_scanner",
)


def _register(names: tuple[str, ...], sub: argparse._SubParsersAction) -> None:
    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # not written yet; every other import error is a real bug
                continue
            raise
        module.register(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="政务服务自助终端 self-service terminal")
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _register(COMMANDS, sub)
    device = sub.add_parser("device", help="technician commands for one device")
    device_sub = device.add_subparsers(dest="device", metavar="DEVICE", required=True)
    _register(DEVICE_COMMANDS, device_sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KioskError as e:
        print(f"kiosk: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
