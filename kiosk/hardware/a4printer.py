"""The A4 certificate printer: a CUPS queue, reached with ``lp`` from Debian's cups-client.

Certificates are laid out as PDFs by ``kiosk.services.certificate_pdf``; this hands them to
the queue. CUPS spools the job, so success here means "accepted", as with any office printer.
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import PrinterError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CupsA4Printer:
    queue: str
    command: str = "lp"
    timeout_s: float = 20.0

    def submit(self, path: Path, title: str) -> str:
        """Hand the PDF to the queue; returns CUPS's request id (e.g. ``A4-12``). A missing
        ``lp`` or a refused job is a ``PrinterError`` (the result screen offers a retry)."""
        argv = [self.command, "-d", self.queue, "-t", title, "-o", "media=A4", "--", str(path)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout_s, check=False)
        except FileNotFoundError as e:
            raise PrinterError(f"{self.command} not found: is cups-client installed?", retryable=False) from e
        except subprocess.TimeoutExpired as e:
            raise PrinterError(f"{self.command} -d {self.queue} did not answer within {self.timeout_s:.0f} s") from e
        if done.returncode != 0:
            raise PrinterError(
                f"{self.command} -d {self.queue} refused the job ({done.returncode}): {done.stderr.strip()[:200]}"
            )
        # "request id is A4-12 (1 file(s))"
        words = done.stdout.split()
        return words[3] if len(words) > 3 and words[:3] == ["request", "id", "is"] else done.stdout.strip()


def build(cfg: Any) -> CupsA4Printer | None:
    """The printer a ``[devices.a4printer]`` section names; None without one (certificates
    are then printed in receipt form)."""
    if getattr(cfg, "driver", "none") != "cups" or not getattr(cfg, "queue", ""):
        return None
    return CupsA4Printer(cfg.queue, cfg.command, float(cfg.timeout_s))
