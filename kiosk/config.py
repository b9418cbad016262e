"""Typed configuration, loaded from ``config/kiosk.toml`` and validated at start-up.

Every problem is reported as ``<file>: <key>: <what is wrong>`` so that a technician can fix
the file without reading code. Unknown keys are refused too: a typo must not silently fall
back to a default. Relative paths are resolved against the folder that holds the file.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kiosk.errors import ConfigError

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "kiosk.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_url(value: str, schemes: tuple[str, ...]) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.hostname:
        raise ValueError(f"bad URL {value!r}: expected {' or '.join(schemes)}://HOST[:PORT]")
    try:
        parsed.port  # noqa: B018 - raises on a malformed port
    except ValueError as e:
        raise ValueError(f"bad URL {value!r}: {e}") from None
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
    secret_file: Path | None = None
    secret_env: str | None = None
    ca_bundle: Path | None = None  # pinned CA for the backend's TLS certificate
    connect_timeout_s: Annotated[float, Field(gt=0, le=60)] = 3.0
    read_timeout_s: Annotated[float, Field(gt=0, le=120)] = 10.0
    heartbeat_s: Annotated[float, Field(gt=0)] = 60.0

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


class ServiceHoursConfig(_Section):
    always_open: bool = True
    open: dt.time = dt.time(8, 0)
    close: dt.time = dt.time(20, 0)

    def is_open(self, now: dt.datetime) -> bool:
        if self.always_open:
            return True
        return self.open <= now.time() < self.close


class StorageConfig(_Section):
    data_dir: Path = Path("../var")


class UiConfig(_Section):
    fullscreen: bool = True
    width: Annotated[int, Field(ge=320)] = 1080
    height: Annotated[int, Field(ge=320)] = 1920
    elder_mode_default: bool = False
    voice: bool = True
    voice_output: Literal["speaker", "file"] = "speaker"  # file: WAVs in data_dir/voice (no sound card)
    simulator_panel: bool = False


# --- devices: the driver key picks the shape of the section --------------------------------


class SimulatedDevice(_Section):
    driver: Literal["simulated"]
    pace_baud: int | None = None  # pace the emulator at a real baud rate (serial devices)
    columns: Literal[32, 48] = 32  # the simulated printer's paper width in characters


class NoDevice(_Section):
    driver: Literal["none"]


class SerialIdCard(_Section):
    driver: Literal["serial"]
    port: str
    baud: Literal[9600, 19200, 38400, 57600, 115200] = 115200
    poll_interval_s: Annotated[float, Field(gt=0, le=5)] = 0.3
    timeout_s: Annotated[float, Field(gt=0, le=10)] = 1.0


class PcscSsCard(_Section):
    driver: Literal["pcsc"]
    reader: str = ""  # substring of the reader name; empty takes the first reader


class NetworkPrinter(_Section):
    driver: Literal["network"]
    columns: Literal[32, 48] = 32  # characters per line: 58 mm paper 32, 80 mm paper 48
    url: str  # tcp://HOST:PORT
    encoding: str = "gb18030"
    timeout_s: Annotated[float, Field(gt=0, le=30)] = 5.0

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _check_url(v, ("tcp",))


class SerialPrinter(_Section):
    driver: Literal["serial"]
    columns: Literal[32, 48] = 32  # characters per line: 58 mm paper 32, 80 mm paper 48
    port: str
    baud: int = 115200
    encoding: str = "gb18030"
    timeout_s: Annotated[float, Field(gt=0, le=30)] = 2.0


class UsbPrinter(_Section):
    driver: Literal["usb"]
    columns: Literal[32, 48] = 32  # characters per line: 58 mm paper 32, 80 mm paper 48
    vendor_id: Annotated[int, Field(ge=0, le=0xFFFF)]
    product_id: Annotated[int, Field(ge=0, le=0xFFFF)]
    encoding: str = "gb18030"


class SerialRatingPad(_Section):
    driver: Literal["serial"]
    port: str
    baud: int = 9600
    heartbeat_s: Annotated[float, Field(gt=0, le=60)] = 5.0


IdCardDevice = Annotated[SimulatedDevice | SerialIdCard | NoDevice, Field(discriminator="driver")]
SsCardDevice = Annotated[SimulatedDevice | PcscSsCard | NoDevice, Field(discriminator="driver")]
PrinterDevice = Annotated[
    SimulatedDevice | NetworkPrinter | SerialPrinter | UsbPrinter | NoDevice,
    Field(discriminator="driver"),
]
RatingPadDevice = Annotated[SimulatedDevice | SerialRatingPad | NoDevice, Field(discriminator="driver")]


class CupsA4Printer(_Section):
    driver: Literal["cups"]
    queue: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]  # as `lpstat -p` names it
    command: str = "lp"  # from Debian cups-client
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 20.0


A4PrinterDevice = Annotated[CupsA4Printer | NoDevice, Field(discriminator="driver")]


class DevicesConfig(_Section):
    idcard: IdCardDevice
    sscard: SsCardDevice
    printer: PrinterDevice
    ratingpad: RatingPadDevice
    #: certificates as A4 PDFs through CUPS; "none": in receipt form on the receipt printer
    a4printer: A4PrinterDevice = NoDevice(driver="none")


class CertificatesConfig(_Section):
    #: a certificate is handed to an office (购房, 落户, 入学), so it carries the holder's full
    #: name and ID number as a counter's does; true masks them on the paper too. Screens,
    #: other receipts, logs, the journal and the outbox are masked either way.
    mask_personal_data: Annotated[bool, Field(strict=True)] = False  # true or false, never "yes"


class AdminConfig(_Section):
    #: scrypt hash written by ``kiosk set-admin-pin``; empty: the admin screen cannot be opened
    pin_hash: str = ""
    max_attempts: Annotated[int, Field(ge=3, le=10)] = 5
    lockout_s: Annotated[int, Field(ge=60, le=86400)] = 900
    idle_timeout_s: Annotated[int, Field(ge=30, le=1800)] = 180
    export_dir: Path = Path("/media/kiosk-usb")  # removable media for the diagnostics bundle


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file: Path | None = None  # a rotated log file besides the journal; None: journal/stderr only
    max_bytes: Annotated[int, Field(ge=65536)] = 5 * 1024 * 1024
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
    logging: LoggingConfig = LoggingConfig()
    devices: DevicesConfig
    service_points: list[ServicePoint] = []

    #: where the file was read from; relative paths resolve against its folder
    source: Path = Path(".")

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


def _describe(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "missing":
        return "missing key"
    if kind == "extra_forbidden":
        return "unknown key (a typo?)"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"unknown driver {ctx.get('tag')!r} (expected one of {ctx.get('expected_tags')})"
    if kind == "union_tag_not_found":
        return "missing key"
    if kind == "literal_error":
        return f"{err['input']!r} is not allowed ({err['msg'].removeprefix('Input should be ')})"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"wrong type: {err['msg'].lower()}, got {err['input']!r}"
    msg = err["msg"].removeprefix("Value error, ")
    return msg


def _key(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        elif p in ("simulated", "serial", "pcsc", "network", "usb", "none") and parts:
            continue  # pydantic adds the union tag to the location; the file has no such key
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts) or "(top level)"


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
            key = _key(err["loc"])
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                key += ".driver"  # the section exists; its driver key is what is wrong
            lines.append(f"{path}: {key}: {_describe(err)}")
        raise ConfigError("\n".join(lines)) from None
    return cfg
