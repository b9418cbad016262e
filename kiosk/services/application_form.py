"""The application form: filled from the ID card, picked from code tables, keyed on the keypad.

No Kivy and no I/O. A form is built from the item's ``ApplicationSpec`` and the identity the
session read; every value goes through one ``set_*`` method that checks it where it is entered
and raises ``FormError`` saying what is wrong and what to do, in Chinese and English. The form
never holds free text: identity values come from the card, everything else is a code (a table
entry, a region) or digits.

What the screen shows of a value is masked like every personal datum on screen (a name, an ID
number, a phone number, the house part of an address); what goes to the backend is the full
value (``submission``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiosk.errors import KioskError
from kiosk.identity import Identity, mask_address, mask_phone
from kiosk.services.assistance import is_mobile_number

if TYPE_CHECKING:
    from kiosk.services.application_spec import ApplicationSpec, FieldSpec
    from kiosk.services.codes import Codes

#: how a region pick must end: at this level, or at the deepest the code table has there
DEPTH_LEVELS = {"county": 6, "township": 9, "village": 12}
DEPTH_WORDS = {"county": ("区县", "county"), "township": ("乡镇（街道）", "township"),
               "village": ("村（社区）", "village or community")}
#: the built-in last line of every form: how the result reaches the resident
DELIVERY = "delivery"


class FormError(KioskError):
    """A value that cannot go on the form; ``message_zh`` / ``message_en`` say why and what to do."""

    message_zh = "填写内容有误，请重新选择或输入"
    message_en = "That entry is not right; please choose or key it again"


def _error(zh: str, en: str) -> FormError:
    return FormError(en, message_zh=zh, message_en=en)


def age_on(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@dataclass(frozen=True)
class Line:
    """One line of the form as the screen shows it."""

    key: str
    label_zh: str
    label_en: str
    kind: str  # identity | pick | region | phone | number | delivery
    shown_zh: str  # "" while empty
    shown_en: str
    required: bool
    from_card: bool


class ApplicationForm:
    def __init__(self, spec: ApplicationSpec, codes: Codes, identity: Identity, *, today: dt.date,
                 service_points: tuple[str, ...] = ()) -> None:
        self.spec = spec
        self.codes = codes
        self.identity = identity
        self.today = today
        self.service_points = service_points
        self.values: dict[str, Any] = {}
        for f in spec.fields:
            if f.kind == "identity":
                value = self._from_card(f)
                if value:
                    self.values[f.key] = value

    # --- who may apply -----------------------------------------------------------------------

    def ineligible(self) -> tuple[str, str] | None:
        """Why this resident cannot apply (the item's age limits, a card without what the form
        copies from it), or None."""
        for f in self.spec.fields:
            if f.kind == "identity" and f.required and f.key not in self.values:
                return (f"您的证件上没有“{f.label_zh}”，本事项请使用居民身份证申请，或到窗口办理。",
                        f"Your card does not give the {f.label_en.lower()}: apply with a resident ID card, "
                        "or at a window.")
        birth = self.identity.birth_date
        low, high = self.spec.min_age, self.spec.max_age
        if birth is None or (low is None and high is None):
            return None
        age = age_on(birth, self.today)
        if low is not None and age < low:
            return (f"本事项须年满{low}周岁方可申请，您现在{age}周岁，暂不符合申请条件。",
                    f"You must be {low} or over to apply; you are {age}, so you cannot apply yet.")
        if high is not None and age > high:
            return (f"本事项的申请人须在{high}周岁以下，您现在{age}周岁，不符合申请条件。",
                    f"Applicants must be {high} or under; you are {age}, so you cannot apply.")
        return None

    # --- entering values ---------------------------------------------------------------------

    def _spec(self, key: str, kind: str) -> FieldSpec:
        f = self.spec.field(key)
        if f.kind != kind:
            raise ValueError(f"field {key} is a {f.kind} field, not {kind}")
        return f

    def set_pick(self, key: str, code: str) -> None:
        f = self._spec(key, "pick")
        assert f.table is not None
        if self.codes.table(f.table).get(code) is None:
            raise _error(f"“{f.label_zh}”只能从列表中选择，请重新选择。",
                         f"{f.label_en}: choose one of the list, please.")
        self.values[key] = code

    def region_done(self, key: str, code: str) -> bool:
        """Whether a pick that has reached ``code`` is finished (deep enough, or nothing below)."""
        f = self.spec.field(key) if key != DELIVERY else None
        depth = DEPTH_LEVELS[f.depth if f is not None else "village"]
        return len(code) >= depth or not self.codes.children(code)

    def set_region(self, key: str, code: str) -> None:
        f = self._spec(key, "region")
        self._check_region(code, f.depth, f.label_zh, f.label_en)
        self.values[key] = code

    def _check_region(self, code: str, depth: str, label_zh: str, label_en: str) -> None:
        if code not in self.codes.regions:
            raise _error(f"“{label_zh}”只能从列表中选择，请重新选择。", f"{label_en}: choose from the list, please.")
        if len(code) < DEPTH_LEVELS[depth] and self.codes.children(code):
            zh, en = DEPTH_WORDS[depth]
            raise _error(f"“{label_zh}”请继续选择到{zh}一级。", f"{label_en}: go on down to the {en}, please.")

    def set_phone(self, key: str, digits: str) -> None:
        f = self._spec(key, "phone")
        if len(digits) != 11 or not digits.isdigit():
            raise _error(f"“{f.label_zh}”应为11位数字，您输入了{len(digits)}位，请重新输入。",
                         f"{f.label_en}: a mobile number has 11 digits, you keyed {len(digits)}; please key it again.")
        if not is_mobile_number(digits):
            raise _error(f"“{f.label_zh}”不是有效的手机号码，请检查后重新输入。",
                         f"{f.label_en}: that is not a mainland mobile number; please check and key it again.")
        self.values[key] = digits

    def set_number(self, key: str, digits: str) -> None:
        f = self._spec(key, "number")
        assert f.min is not None and f.max is not None
        if not digits.isdigit() or not f.min <= int(digits) <= f.max:
            raise _error(f"“{f.label_zh}”应在{f.min}到{f.max}之间，请重新输入。",
                         f"{f.label_en}: between {f.min} and {f.max}, please key it again.")
        self.values[key] = int(digits)

    def clear(self, key: str) -> None:
        if key == DELIVERY or self.spec.field(key).kind != "identity":
            self.values.pop(key, None)

    # --- how the result reaches the resident ---------------------------------------------------

    def delivery_choices(self) -> tuple[str, ...]:
        """mail_card (the ID card's address) | mail_region (picked) | pickup, as the item allows."""
        out: list[str] = []
        if "mail" in self.spec.delivery:
            if self.identity.address:
                out.append("mail_card")
            out.append("mail_region")
        if "pickup" in self.spec.delivery and self.service_points:
            out.append("pickup")
        return tuple(out)

    def set_delivery(self, choice: str, *, region: str = "", house: str = "", point: str = "") -> None:
        if choice not in self.delivery_choices():
            raise _error("请选择结果领取方式。", "Choose how you receive the result, please.")
        if choice == "mail_card":
            value: dict[str, str] = {"method": "mail", "to": "card"}
        elif choice == "mail_region":
            self._check_region(region, "village", "邮寄地址", "Postal address")
            if not house.isdigit() or not 1 <= int(house) <= 9999:
                raise _error("门牌号应为1到9999的数字，请重新输入。",
                             "The house number is a number from 1 to 9999; please key it again.")
            value = {"method": "mail", "to": "region", "region": region, "house": str(int(house))}
        else:
            if point not in self.service_points:
                raise _error("请从列表中选择领取网点。", "Choose the service point from the list, please.")
            value = {"method": "pickup", "point": point}
        self.values[DELIVERY] = value

    # --- reading the form ----------------------------------------------------------------------

    def missing(self) -> tuple[str, ...]:
        """Required lines still empty, in form order (the delivery line last)."""
        out = [f.key for f in self.spec.fields if f.required and f.key not in self.values]
        if DELIVERY not in self.values:
            out.append(DELIVERY)
        return tuple(out)

    @property
    def complete(self) -> bool:
        return not self.missing()

    def lines(self) -> tuple[Line, ...]:
        out = [Line(f.key, f.label_zh, f.label_en, f.kind, *self.shown(f.key), f.required, f.kind == "identity")
               for f in self.spec.fields]
        out.append(Line(DELIVERY, "结果领取方式", "How you receive the result", "delivery",
                        *self.shown(DELIVERY), True, False))
        return tuple(out)

    def shown(self, key: str) -> tuple[str, str]:
        """What the screen shows of a value (masked where it is personal), zh and en."""
        value = self.values.get(key)
        if value is None:
            return "", ""
        if key == DELIVERY:
            return self._delivery_text(value, masked=True)
        f = self.spec.field(key)
        if f.kind == "identity":
            return self._identity_shown(f)
        if f.kind == "pick":
            entry = self.codes.table(f.table or "").get(value)
            return (entry.zh, entry.en) if entry else (value, value)
        if f.kind == "region":
            return self.codes.address(value), self.codes.address(value, "en")
        if f.kind == "phone":
            return mask_phone(value), mask_phone(value)
        return str(value), str(value)

    def _from_card(self, f: FieldSpec) -> str:
        who = self.identity
        if f.source == "name":
            return who.name
        if f.source == "id_number":
            return who.id_number
        if f.source == "sex":
            return who.sex.value
        if f.source == "birth_date":
            return who.birth_date.isoformat() if who.birth_date else ""
        return who.address

    def _identity_shown(self, f: FieldSpec) -> tuple[str, str]:
        who = self.identity
        if f.source == "name":
            return who.masked_name, who.masked_name
        if f.source == "id_number":
            return who.masked_id, who.masked_id
        if f.source == "sex":
            return who.sex.label_zh, {"1": "Male", "2": "Female"}.get(who.sex.value, "Not stated")
        if f.source == "birth_date" and who.birth_date:
            age = age_on(who.birth_date, self.today)
            return f"{who.birth_date.year}年（{age}周岁）", f"{who.birth_date.year} (aged {age})"
        masked = mask_address(who.address)
        return masked, masked

    def _delivery_text(self, value: dict[str, str], *, masked: bool) -> tuple[str, str]:
        if value["method"] == "pickup":
            return f"到{value['point']}领取", f"Collect at {value['point']}"
        if value["to"] == "card":
            address = mask_address(self.identity.address) if masked else self.identity.address
            return f"邮寄到身份证地址：{address}", f"Post to the address on the ID card: {address}"
        house = "**" if masked else value["house"]
        return (f"邮寄到：{self.codes.address(value['region'])}{house}号",
                f"Post to: No. {house}, {self.codes.address(value['region'], 'en')}")

    def delivery_summary(self) -> tuple[str, str]:
        """The delivery line for the receipt: the method and where, with the house part masked."""
        value = self.values.get(DELIVERY)
        return self._delivery_text(value, masked=True) if value else ("", "")

    def submission(self) -> dict[str, Any]:
        """The form as the backend takes it: full values, codes with their words."""
        fields: dict[str, dict[str, Any]] = {}
        for f in self.spec.fields:
            if f.key not in self.values or f.kind == "identity":
                continue
            value = self.values[f.key]
            text = self.shown(f.key)[0] if f.kind in ("pick", "region") else str(value)
            fields[f.key] = {"kind": f.kind, "value": str(value), "text": text}
        who = self.identity
        delivery = dict(self.values.get(DELIVERY, {}))
        if delivery.get("method") == "mail":
            delivery["address"] = self._delivery_text(delivery, masked=False)[0].split("：", 1)[1]
        return {
            "applicant": {
                "name": who.name,
                "id_number": who.id_number,
                "sex": who.sex.value,
                "birth_date": who.birth_date.isoformat() if who.birth_date else "",
                "address": who.address,
            },
            "fields": fields,
            "delivery": delivery,
        }
