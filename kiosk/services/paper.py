"""A receipt that belongs to the resident's session: printed on the receipt printer, and built
once, so that 重新打印 after a paper jam prints the same job (same number, same QR) again.
Used by the items whose paper is a receipt of what was done (a 挂失 receipt, a 受理回执). No
Kivy here; blocking, so it runs on a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.errors import KioskError
from kiosk.receipt import PrintJob

if TYPE_CHECKING:
    from kiosk.services.journey import Ports
    from kiosk.services.session import Session

log = logging.getLogger(__name__)

NO_PRINTER_ZH = "本终端未配置打印机"


def print_kept(ports: Ports, session: Session, key: str, make_job: Callable[[], PrintJob], what: str) -> str:
    """Print the session's job ``key`` (made by ``make_job`` the first time); '' when printed,
    else why not, in Chinese (a printer known to be down is not even asked)."""
    printer = ports.devices.device("printer")
    why = ports.devices.unavailable_reason(["printer"])
    if printer is None or why is not None:
        return why[0] if why else NO_PRINTER_ZH
    job = session.data.get(key)
    if job is None:
        job = session.data[key] = make_job()
    job.attempts += 1
    try:
        printer.print_job(job)
    except KioskError as e:
        log.warning("%s %s not printed: %s", what, job.job_id, e)
        return e.message_zh
    return ""
