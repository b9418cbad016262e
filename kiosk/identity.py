"""Who a resident is: the identity read from a card or keyed in, with masking and checks.

Pure logic with no I/O. ``Identity`` never prints its personal data: its ``repr`` is masked,
so a stray log line or traceback cannot leak a full ID number or name.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID18 = re.compile(r"^\d{17}[\dX]$")


def id_check_digit(first17: str) -> str:
    """The GB 11643-1999 (ISO 7064 MOD 11-2) check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("the check digit needs exactly 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def is_valid_id_number(number: str) -> bool:
    """True for an 18-character ID number with a correct check digit and a real birth date."""
    number = number.strip().upper()
    if not _ID18.match(number):
        return False
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return id_check_digit(number[:17]) == number[17]


def mask_id_number(number: str) -> str:
    """Keep the first 3 and last 4 characters: ``370***********123X``."""
    number = (number or "").strip()
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_name(name: str) -> str:
    """Keep the first character (the surname, mostly): ``张**``. Works for rare characters."""
    chars = list(name or "")
    if len(chars) <= 1:
        return "*" * len(chars)
    return chars[0] + "*" * (len(chars) - 1)


def mask_phone(phone: str) -> str:
    """``138****5678``."""
    phone = (phone or "").strip()
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


#: where the part of an address that finds a household begins (after the township or the county)
_ADDRESS_UNITS = ("街道", "镇", "乡", "县", "区", "市")


def mask_address(address: str) -> str:
    """Keep the regions down to the township and hide the rest: ``山东省泰安市宁阳县葛石镇****``."""
    address = (address or "").strip()
    for unit in _ADDRESS_UNITS:
        end = address.rfind(unit, 0, 20)
        if end > 0:
            end += len(unit)
            return address[:end] + ("*" * 4 if end < len(address) else "")
    return address[:6] + ("*" * 4 if len(address) > 6 else "")


def mask_number(number: str, keep: int = 4) -> str:
    """Any card or account number: only the last ``keep`` characters shown."""
    number = (number or "").strip()
    if len(number) <= keep:
        return "*" * len(number)
    return "*" * (len(number) - keep) + number[-keep:]


def mask_code(code: str) -> str:
    """A scanned code (an identity token, a payment code): its first and last two characters
    and how long it is, ``13**…**78 (18)``; enough for a technician to tell two apart."""
    code = (code or "").strip()
    if len(code) <= 6:
        return "*" * len(code)
    return f"{code[:2]}**…**{code[-2:]} ({len(code)})"


class CardType(StrEnum):
    RESIDENT = "resident"  # 居民身份证 (flag space)
    HMT_PERMIT = "hmt_permit"  # 港澳台居民居住证 (flag J)
    FOREIGN_PERMANENT = "foreign_permanent"  # 外国人永久居留身份证 2017 (flag I)
    FOREIGN_PERMANENT_2023 = "foreign_permanent_2023"  # 2023 版 (flag Y)
    SOCIAL_SECURITY = "social_security"  # 社会保障卡
    KEYED = "keyed"  # typed on the keypad where the item allows it
    E_SSCARD = "e_sscard"  # 电子社保卡: a QR code on the phone, resolved by the backend
    E_ID = "e_id"  # 电子身份证 (网证 CTID): a QR code on the phone, resolved by the backend


class Sex(StrEnum):
    UNKNOWN = "0"
    MALE = "1"
    FEMALE = "2"
    UNSTATED = "9"

    @property
    def label_zh(self) -> str:
        return {"0": "未知", "1": "男", "2": "女", "9": "未说明"}[self.value]


#: GB/T 3304 nation codes as written on the ID card; 97 and 98 per GA 450.
NATIONS: dict[str, str] = {
    code: name
    for code, name in zip(
        [f"{i:02d}" for i in range(1, 57)],
        "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 "
        "水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 "
        "乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺".split(),
        strict=True,
    )
} | {"97": "其他", "98": "外国血统中国籍人士"}


def nation_name(code: str) -> str:
    """``"01"`` -> ``"汉族"``; 97/98 are returned without 族; unknown codes as they are."""
    name = NATIONS.get(code.strip().zfill(2))
    if name is None:
        return code
    return name if code.strip().zfill(2) in ("97", "98") else name + "族"


@dataclass(frozen=True, repr=False)
class Identity:
    """A resident's identity for one session. Wiped with the session."""

    card_type: CardType
    name: str
    id_number: str
    sex: Sex = Sex.UNKNOWN
    birth_date: dt.date | None = None
    nation: str = ""  # code, "01".."56", "97", "98"; empty where the card has none
    address: str = ""
    authority: str = ""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None  # None with long_term=True means 长期
    long_term: bool = False
    english_name: str = ""
    nationality: str = ""  # ISO 3166 alpha-3 on foreigner cards
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def masked_id(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    def is_expired(self, today: dt.date | None = None) -> bool:
        if self.long_term or self.valid_to is None:
            return False
        return self.valid_to < (today or dt.date.today())

    def __repr__(self) -> str:
        return f"Identity({self.card_type.value}, {self.masked_name}, {self.masked_id})"

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class SocialSecurityCard:
    """What the social-security card's EF05 and EF06 say. Wiped with the session."""

    card_number: str  # 社会保障卡卡号 (EF05 tag 07, 9 characters)
    identity: Identity  # EF06: 社会保障号码 (= ID number), name, sex, nation, birth date
    issue_date: dt.date | None = None
    expiry_date: dt.date | None = None
    card_id: str = ""  # 卡识别码 (EF05 tag 01)
    card_type: str = ""
    version: str = ""
    issuer: str = ""  # 发卡机构代码

    @property
    def masked_card_number(self) -> str:
        return mask_number(self.card_number, 4)

    def __repr__(self) -> str:
        return f"SocialSecurityCard({self.masked_card_number}, {self.identity!r})"

    __str__ = __repr__
