"""Typed configuration, loaded from ``config/kiosk.toml`` and validated at start-up.

Every problem is reported as ``<file>: <key>: <what is wrong>`` so that a technician can fix
the file without reading code. Unknown keys are refused too: a typo must not silently fall
back to a default. Relative paths are resolved against the folder that holds the file.

Types are strict: ``fullscreen = "yes"`` is not a boolean and ``"120"`` is not a number (a
quoted value is a mistake to point at, not something to guess about); no float may be
``inf`` or ``nan``, and every number has bounds a terminal can live with (a heartbeat every
microsecond is as wrong as a missing one). What the file names on this machine (the secret,
the data dir, the log file) is checked by ``kiosk.config_checks``.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, get_origin
from urllib.parse import urlparse

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kiosk.errors import ConfigError
from kiosk.validation import describe, location

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "kiosk.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _arrays_for_tuples(cls, data: Any) -> Any:
        """TOML has arrays and no tuples: an array given for a tuple field is what the file
        means (strict mode would refuse it), whatever tuple fields a section gains."""
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                if isinstance(data.get(name), list) and get_origin(field.annotation) is tuple:
                    data = {**data, name: tuple(data[name])}
        return data


#: a path is written as a string in TOML: the one place a string is turned into something else
FilePath = Annotated[Path, Field(strict=False)]
#: the serial line speeds devices use; 0, negative or made-up rates are refused
Baud = Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400]
NonEmpty = Annotated[str, Field(min_length=1)]


def _check_url(value: str, schemes: tuple[str, ...], *, port_required: bool = False) -> str:
    parsed = urlparse(value)
    port = "PORT" if port_required else "[:PORT]"
    if parsed.scheme not in schemes or not parsed.hostname:
        raise ValueError(f"bad URL {value!r}: expected {' or '.join(schemes)}://HOST{port}")
    try:
        number = parsed.port
    except ValueError as e:
        raise ValueError(f"bad URL {value!r}: {e}") from None
    if number is None and port_required:
        raise ValueError(f"bad URL {value!r}: no port (expected {schemes[0]}://HOST:PORT)")
    if number == 0 and port_required:  # (a backend URL's port 0 is the demo's placeholder)
        raise ValueError(f"bad URL {value!r}: port 0 is not between 1 and 65535")
    return value


def _check_encoding(value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError:
        raise ValueError(f"unknown encoding {value!r} (e.g. 'gb18030')") from None
    return value


class TerminalConfig(_Section):
    id: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")]
    name: str = "政务服务自助终端"
    site_kind: Literal["hall", "bank", "supermarket", "hospital"]
    area_code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    locale: Literal["zh_CN", "en"] = "zh_CN"
    #: the public address residents' phones open to rate later (the QR on the rating screen);
    #: unset, the backend URL is used, which suits the demo only
    online_rating_url: str | None = None

    @field_validator("online_rating_url")
    @classmethod
    def _rating_url(cls, v: str | None) -> str | None:
        return None if v is None else _check_url(v, ("http", "https"))


class BackendConfig(_Section):
    url: str
    secret_file: FilePath | None = None
    secret_env: NonEmpty | None = None
    ca_bundle: FilePath | None = None  # pinned CA for the backend's TLS certificate
    connect_timeout_s: Annotated[float, Field(ge=0.1, le=60)] = 3.0
    read_timeout_s: Annotated[float, Field(ge=0.5, le=120)] = 10.0
    heartbeat_s: Annotated[float, Field(ge=5, le=3600)] = 60.0

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _check_url(v, ("http", "https"))

    @model_validator(mode="after")
    def _one_secret_source(self) -> BackendConfig:
        if (self.secret_file is None) == (self.secret_env is None):
            raise ValueError("set exactly one of secret_file or secret_env")
        return self


class SessionConfig(_Section):
    idle_timeout_s: Annotated[int, Field(ge=30, le=900)] = 120
    idle_warning_s: Annotated[int, Field(ge=20, le=120)] = 25  # WCAG 2.2.1: at least 20 s
    rating_timeout_s: Annotated[int, Field(ge=20, le=300)] = 60
    #: the end-of-visit screen (thanks, why the visit ended, what to take) stays this long
    farewell_s: Annotated[float, Field(ge=2, le=30)] = 5.0
    #: a card left in a reader keeps the "take your card" reminder up at most this long
    take_card_timeout_s: Annotated[int, Field(ge=30, le=900)] = 180


class ServiceHoursConfig(_Section):
    always_open: bool = True
    open: dt.time = dt.time(8, 0)
    close: dt.time = dt.time(20, 0)

    @field_validator("close")
    @classmethod
    def _after_open(cls, close: dt.time, info: ValidationInfo) -> dt.time:
        opens = info.data.get("open")
        if opens is not None and close <= opens:
            raise ValueError(f"closing time {close:%H:%M} is not after opening time {opens:%H:%M}")
        return close

    def is_open(self, now: dt.datetime) -> bool:
        if self.always_open:
            return True
        return self.open <= now.time() < self.close


class StorageConfig(_Section):
    data_dir: FilePath = Path("../var")
    #: with less free space than this on the data dir, items that write the journal are paused
    min_free_mb: Annotated[int, Field(ge=1, le=102400)] = 20


class UiConfig(_Section):
    fullscreen: bool = True
    width: Annotated[int, Field(ge=320, le=8192)] = 1080
    height: Annotated[int, Field(ge=320, le=8192)] = 1920
    #: pixels per dp: 1.0 lays the screens out for a 1080x1920 panel; another panel of the same
    #: shape gets the same layout with its width / 1080 (a 768x1366 one: 0.71)
    scale: Annotated[float, Field(ge=0.25, le=4.0)] = 1.0
    elder_mode_default: bool = False
    voice: bool = True
    voice_output: Literal["speaker", "file"] = "speaker"  # file: WAVs in data_dir/voice (no sound card)
    simulator_panel: bool = False
    #: where each part is on the cabinet, seen from the resident: the pictures' arrows point there
    idcard_reader_at: Literal["below", "right", "left"] = "below"
    sscard_reader_at: Literal["below", "right", "left"] = "below"
    printer_at: Literal["below", "right", "left"] = "below"
    scanner_at: Literal["below", "right", "left"] = "below"  # the QR code scanner's window
    #: 常用: the items residents come for most, first on the home screen (catalogue ids)
    hot_items: tuple[str, ...] = (
        "pension_eligibility_certification", "contribution_certificate", "resident_pension_payment",
        "water_bill", "sscard_temporary_loss", "rights_record", "resident_medical_payment",
        "electricity_bill", "medical_account_query", "insured_status_query", "benefit_certificate",
        "help_request",
    )


# --- devices: the driver key picks the shape of the section --------------------------------


class SimulatedDevice(_Section):
    driver: Literal["simulated"]
    pace_baud: Baud | None = None  # pace the emulator at a real baud rate (serial devices)
    columns: Literal[32, 48] = 32  # the simulated printer's paper width in characters


class NoDevice(_Section):
    driver: Literal["none"]


class SerialIdCard(_Section):
    driver: Literal["serial"]
    port: NonEmpty
    baud: Literal[9600, 19200, 38400, 57600, 115200] = 115200
    poll_interval_s: Annotated[float, Field(ge=0.05, le=5)] = 0.1  # kiosk.hardware.idcard.POLL_INTERVAL_S
    timeout_s: Annotated[float, Field(ge=0.1, le=10)] = 1.0


class PcscSsCard(_Section):
    driver: Literal["pcsc"]
    reader: str = ""  # substring of the reader name; empty takes the first reader


class NetworkPrinter(_Section):
    driver: Literal["network"]
    columns: Literal[32, 48] = 32  # characters per line: 58 mm paper 32, 80 mm paper 48
    url: str  # tcp://HOST:PORT
    encoding: str = "gb18030"
    timeout_s: Annotated[float, Field(ge=0.5, le=30)] = 5.0

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _check_url(v, ("tcp",), port_required=True)

    _encoding = field_validator("encoding")(_check_encoding)


class SerialPrinter(_Section):
    driver: Literal["serial"]
    columns: Literal[32, 48] = 32  # characters per line: 58 mm paper 32, 80 mm paper 48
    port: NonEmpty
    baud: Baud = 115200
    encoding: str = "gb18030"
    timeout_s: Annotated[float, Field(ge=0.1, le=30)] = 2.0

    _encoding = field_validator("encoding")(_check_encoding)


class UsbPrinter(_Section):
    driver: Literal["usb"]
    columns: Literal[32, 48] = 32  # characters per line: 58 mm paper 32, 80 mm paper 48
    vendor_id: Annotated[int, Field(ge=0, le=0xFFFF)]
    product_id: Annotated[int, Field(ge=0, le=0xFFFF)]
    encoding: str = "gb18030"

    _encoding = field_validator("encoding")(_check_encoding)


class SerialRatingPad(_Section):
    driver: Literal["serial"]
    port: NonEmpty
    baud: Baud = 9600
    heartbeat_s: Annotated[float, Field(ge=0.5, le=60)] = 5.0


class SerialScanner(_Section):
    """A QR / barcode scanner in serial mode (USB-COM or RS-232): the code, then a suffix."""

    driver: Literal["serial"]
    port: NonEmpty
    baud: Baud = 9600
    suffix: Literal["CR", "CRLF", "LF"] = "CR"  # as set on the scanner
    #: longer codes are refused whole (a QR code holds at most 2,953 bytes)
    max_bytes: Annotated[int, Field(ge=16, le=4096)] = 1024
class UvcCamera(_Section):
    """A document camera (高拍仪): a UVC camera through V4L2 (``/dev/video0`` or an index), or a
    network camera's MJPEG stream by URL."""

    driver: Literal["uvc"]
    device: NonEmpty = "/dev/video0"
    width: Annotated[int, Field(ge=320, le=8192)] = 1600
    height: Annotated[int, Field(ge=240, le=8192)] = 1200
    fps: Annotated[float, Field(ge=1, le=60)] = 10.0


IdCardDevice = Annotated[SimulatedDevice | SerialIdCard | NoDevice, Field(discriminator="driver")]
SsCardDevice = Annotated[SimulatedDevice | PcscSsCard | NoDevice, Field(discriminator="driver")]
PrinterDevice = Annotated[
    SimulatedDevice | NetworkPrinter | SerialPrinter | UsbPrinter | NoDevice,
    Field(discriminator="driver"),
]
RatingPadDevice = Annotated[SimulatedDevice | SerialRatingPad | NoDevice, Field(discriminator="driver")]
ScannerDevice = Annotated[SimulatedDevice | SerialScanner | NoDevice, Field(discriminator="driver")]
CameraDevice = Annotated[SimulatedDevice | UvcCamera | NoDevice, Field(discriminator="driver")]


class CupsA4Printer(_Section):
    driver: Literal["cups"]
    queue: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]  # as `lpstat -p` names it
    command: NonEmpty = "lp"  # from Debian cups-client
    timeout_s: Annotated[float, Field(ge=1, le=120)] = 20.0


A4PrinterDevice = Annotated[CupsA4Printer | NoDevice, Field(discriminator="driver")]


class DevicesConfig(_Section):
    idcard: IdCardDevice
    sscard: SsCardDevice
    printer: PrinterDevice
    ratingpad: RatingPadDevice
    #: the QR code scanner (电子社保卡 / 电子身份证, 付款码); "none": the kiosk offers neither
    scanner: ScannerDevice = NoDevice(driver="none")
    #: certificates as A4 PDFs through CUPS; "none": in receipt form on the receipt printer
    a4printer: A4PrinterDevice = NoDevice(driver="none")
    #: the document camera (高拍仪) applications photograph their materials with
    camera: CameraDevice = NoDevice(driver="none")


class CertificatesConfig(_Section):
    #: a certificate is handed to an office (购房, 落户, 入学), so it carries the holder's full
    #: name and ID number as a counter's does; true masks them on the paper too. Screens,
    #: other receipts, logs, the journal and the outbox are masked either way.
    mask_personal_data: Annotated[bool, Field(strict=True)] = False  # true or false, never "yes"


class ApplicationsConfig(_Section):
    #: how long the resident waits on screen for the 办件编号 after submitting; after that the
    #: application stays sealed in the outbox, goes when the network allows, and the resident
    #: takes a 申请凭条 and follows the progress by ID card
    wait_for_number_s: Annotated[float, Field(ge=1, le=120)] = 20.0
    #: how long a capture waits for the page to lie still
    capture_timeout_s: Annotated[float, Field(ge=2, le=60)] = 8.0


class AdminConfig(_Section):
    #: scrypt hash written by ``kiosk set-admin-pin``; empty: the admin screen cannot be opened
    pin_hash: str = ""
    max_attempts: Annotated[int, Field(ge=3, le=10)] = 5
    lockout_s: Annotated[int, Field(ge=60, le=86400)] = 900
    idle_timeout_s: Annotated[int, Field(ge=30, le=1800)] = 180
    export_dir: FilePath = Path("/media/kiosk-usb")  # removable media for the diagnostics bundle


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file: FilePath | None = None  # a rotated log file besides the journal; None: journal/stderr only
    max_bytes: Annotated[int, Field(ge=65536, le=1 << 30)] = 5 * 1024 * 1024
    backups: Annotated[int, Field(ge=1, le=50)] = 5


class ServicePoint(_Section):
    name: str
    address: str
    hours: str
    phone: str
    items: list[str] = []
    has_terminal: bool = False


class KioskConfig(_Section):
    terminal: TerminalConfig
    backend: BackendConfig
    session: SessionConfig = SessionConfig()
    service_hours: ServiceHoursConfig = ServiceHoursConfig()
    storage: StorageConfig = StorageConfig()
    ui: UiConfig = UiConfig()
    admin: AdminConfig = AdminConfig()
    certificates: CertificatesConfig = CertificatesConfig()
    applications: ApplicationsConfig = ApplicationsConfig()
    logging: LoggingConfig = LoggingConfig()
    devices: DevicesConfig
    service_points: list[ServicePoint] = []

    #: where the file was read from; relative paths resolve against its folder
    source: FilePath = Path(".")

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.source.parent / path).resolve()

    @property
    def data_dir(self) -> Path:
        return self.resolve(self.storage.data_dir)

    def terminal_secret(self) -> bytes:
        """Read the terminal's HMAC secret from the file or environment variable named."""
        b = self.backend
        if b.secret_env is not None:
            value = os.environ.get(b.secret_env, "")
            if not value:
                raise ConfigError(
                    f"{self.source}: backend.secret_env: environment variable {b.secret_env} is empty or unset"
                )
            return value.strip().encode()
        assert b.secret_file is not None
        path = self.resolve(b.secret_file)
        try:
            value = path.read_text().strip()
        except OSError as e:
            raise ConfigError(
                f"{self.source}: backend.secret_file: cannot read {path}: {e.strerror}; "
                "write the terminal secret there (see README, 'Terminal secret')"
            ) from None
        if not value:
            raise ConfigError(f"{self.source}: backend.secret_file: {path} is empty")
        return value.encode()


#: pydantic names the union member it tried in the location; the file has no such key
_DRIVER_TAGS = ("simulated", "serial", "pcsc", "network", "usb", "uvc", "none")


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict, or ``ConfigError`` saying which file and why it cannot be read."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None


def load_config(path: str | os.PathLike[str] | None = None) -> KioskConfig:
    """Read and validate a config file; raise ``ConfigError`` naming the file and the key."""
    path = Path(path) if path is not None else Path(os.environ.get("KIOSK_CONFIG", DEFAULT_PATH))
    raw = read_toml(path)
    try:
        cfg = KioskConfig.model_validate({**raw, "source": path.resolve()})
    except ValidationError as e:
        lines = []
        for err in e.errors():
            key = location(err["loc"], skip=_DRIVER_TAGS)
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                key += ".driver"  # the section exists; its driver key is what is wrong
            lines.append(f"{path}: {key}: {describe(err)}")
        raise ConfigError("\n".join(lines)) from None
    return cfg
