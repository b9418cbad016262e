"""One exception tree for everything the kiosk raises on purpose.

Library errors (pyserial, pyscard, escpos, requests, sqlite3) are translated into these at the
adapter boundary, so the journey and the UI only ever handle ``KioskError``. Every error can
carry a resident-facing message in Chinese and English and says whether trying again can help.
"""

from __future__ import annotations


class KioskError(Exception):
    """Root of the tree. ``str(err)`` is the technician message (never personal data)."""

    #: resident-facing text; subclasses set a sensible default
    message_zh: str = "系统繁忙，请稍后再试"
    message_en: str = "The system is busy, please try again later"
    retryable: bool = False

    def __init__(
        self,
        message: str = "",
        *,
        message_zh: str | None = None,
        message_en: str | None = None,
        retryable: bool | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message or self.__class__.__doc__ or self.__class__.__name__)
        if message_zh is not None:
            self.message_zh = message_zh
        if message_en is not None:
            self.message_en = message_en
        if retryable is not None:
            self.retryable = retryable
        self.code = code or self.__class__.__name__


class ConfigError(KioskError):
    """The configuration is missing, unreadable or invalid."""

    message_zh = "终端配置有误，请联系工作人员"
    message_en = "The terminal is misconfigured, please ask staff for help"


# --- devices -------------------------------------------------------------------------------


class DeviceError(KioskError):
    """A device failed."""

    message_zh = "设备故障，请联系工作人员"
    message_en = "A device has failed, please ask staff for help"
    retryable = True


class DeviceNotFoundError(DeviceError):
    """The device is not connected or its port cannot be opened."""


class DeviceTimeoutError(DeviceError):
    """The device did not answer in time."""


class ProtocolError(DeviceError):
    """The device sent bytes that do not follow its protocol."""


class CardError(DeviceError):
    """The card was removed, is unreadable or answered an error status."""

    message_zh = "读卡失败，请重新放置证件"
    message_en = "The card could not be read, please place it again"


class CardRemovedError(CardError):
    """The card was taken away during a read."""


class NoCardError(CardError):
    """No card is on the reader."""

    message_zh = "未检测到证件，请将证件放在读卡区"
    message_en = "No card found, please place your card on the reader"


class PrinterError(DeviceError):
    """The printer failed or refused the job."""

    message_zh = "打印机故障，请联系工作人员"
    message_en = "The printer has failed, please ask staff for help"


class PaperOutError(PrinterError):
    """The printer has no paper."""

    message_zh = "打印机缺纸，请联系工作人员"
    message_en = "The printer is out of paper, please ask staff for help"


# --- backend -------------------------------------------------------------------------------


class BackendError(KioskError):
    """The backend refused a request or answered something unusable."""


class BackendUnavailableError(BackendError):
    """The backend cannot be reached (network down, timeout, 5xx)."""

    message_zh = "网络暂时不可用，请稍后再试"
    message_en = "The network is unavailable, please try again later"
    retryable = True


class BackendProtocolError(BackendError):
    """The backend answered something that is not what the contract says."""

    message_zh = "服务暂时异常，请稍后再试"
    message_en = "The service is not working properly, please try again later"
    retryable = True


# --- the terminal's own store (kiosk.store.db translates sqlite3 and OS errors into these) ----


class StoreError(KioskError):
    """The local database cannot be opened or written (disk full, read-only, corrupt)."""

    message_zh = "终端存储故障，暂停办理，请联系工作人员"
    message_en = "The terminal's storage has failed: this service is paused, please ask staff for help"


class StoreFullError(StoreError):
    """The data dir has no room left (or less than the configured minimum)."""

    message_zh = "终端存储空间不足，暂停办理，请联系工作人员"
    message_en = "The terminal's storage is full: this service is paused, please ask staff for help"


class StoreDamagedError(StoreError):
    """A store's file is missing, unreadable, not a database or damaged."""


class OutboxLostError(StoreDamagedError):
    """The outbox had rows and is now empty, missing or unreadable: they may be lost."""


# --- journey -------------------------------------------------------------------------------


class JourneyError(KioskError):
    """A step of a resident's journey cannot go on."""


class IdentityError(JourneyError):
    """The identity document or number is not acceptable for this item."""

    message_zh = "证件信息无效，请核对后重试"
    message_en = "The identity document is not valid, please check and try again"
