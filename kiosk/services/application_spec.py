"""What an application item asks for, as data: its form, its materials and its 承诺 text.

An item whose ``flow`` is ``application`` carries an ``[items.application]`` table in
``config/services.toml``: who may apply (age), which department decides and how many working
days it promises, the form's fields (filled from the ID card, picked from a code table, keyed on
the keypad), the materials (scanned on the document camera, or taken from the resident's 电子证照
where the platform holds one), the commitment the resident signs, and how the result reaches
them (邮寄 or 自取). ``kiosk.services.catalogue`` checks all of it when the catalogue loads,
against the code tables (``kiosk.services.codes``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)]

#: what a field shows and where its value comes from
FieldKind = Literal["identity", "pick", "region", "phone", "number"]
#: what an ``identity`` field copies from the ID card
IdentitySource = Literal["name", "id_number", "sex", "birth_date", "address"]
#: the kinds of document a material can be, with their names; ``licence``: the platform's
#: 电子证照库 may hold it, so a resident can pick it instead of scanning
DOCUMENTS: dict[str, tuple[str, str, bool]] = {
    "id_card": ("居民身份证", "Resident ID card", True),
    "hukou": ("居民户口簿", "Household register (hukou booklet)", True),
    "photo": ("近期免冠证件照", "Recent passport-style photo", False),
    "bank_card": ("银行卡或社会保障卡", "Bank card or social security card", False),
    "separation": ("解除或终止劳动合同证明", "Proof that the employment ended", False),
    "diploma": ("毕业证书", "Diploma", True),
}
DocumentKind = Literal["id_card", "hukou", "photo", "bank_card", "separation", "diploma"]
Delivery = Literal["mail", "pickup"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Frozen):
    """One line of the form."""

    key: Key
    kind: FieldKind
    label_zh: Text
    label_en: Text
    required: StrictBool = True
    #: identity: what the ID card gives
    source: IdentitySource | None = None
    #: pick: the code table (config/code_tables.toml)
    table: str | None = None
    #: region: how far down the resident picks (the deepest level the regions have, at most)
    depth: Literal["county", "township", "village"] = "village"
    #: number: the bounds of the value
    min: Annotated[int, Field(ge=0, le=9999)] | None = None
    max: Annotated[int, Field(ge=1, le=9999)] | None = None


class MaterialSpec(_Frozen):
    """One material (申请材料): its pages are photographed on the document camera."""

    key: Key
    document: DocumentKind
    name_zh: Text
    name_en: Text
    required: StrictBool = True
    pages_min: Annotated[int, Field(ge=1, le=6)] = 1
    pages_max: Annotated[int, Field(ge=1, le=6)] = 2
    #: the resident may pick the 电子证照 the platform holds instead of scanning it
    licence: StrictBool = False


class ApplicationSpec(_Frozen):
    department_zh: Text
    department_en: Text
    #: 承诺办结时限, in working days from acceptance
    promise_days: Annotated[int, Field(ge=1, le=60)]
    min_age: Annotated[int, Field(ge=0, le=120)] | None = None
    max_age: Annotated[int, Field(ge=1, le=120)] | None = None
    fields: Annotated[tuple[FieldSpec, ...], Field(min_length=1)]
    materials: tuple[MaterialSpec, ...] = ()
    commitment_zh: Text
    commitment_en: Text
    delivery: Annotated[tuple[Delivery, ...], Field(min_length=1)] = ("mail", "pickup")

    def field(self, key: str) -> FieldSpec:
        return next(f for f in self.fields if f.key == key)

    def material(self, key: str) -> MaterialSpec:
        return next(m for m in self.materials if m.key == key)


def spec_problems(spec: ApplicationSpec, tables: dict, devices: tuple[str, ...]) -> list[tuple[str, str]]:
    """Checks across keys of one item's application: ``(key, what)`` pairs, the key under
    ``application.``; ``tables`` are the code tables by name."""
    problems: list[tuple[str, str]] = []
    keys = [f.key for f in spec.fields]
    for i, f in enumerate(spec.fields):
        at = f"application.fields[{i}]"
        if keys.count(f.key) > 1:
            problems.append((f"{at}.key", f"{f.key!r} is used by another field too"))
        if f.kind == "identity" and f.source is None:
            problems.append((f"{at}.source", "missing: an identity field names what the ID card gives"))
        if f.kind != "identity" and f.source is not None:
            problems.append((f"{at}.source", "only identity fields copy from the ID card"))
        if f.kind == "pick":
            if f.table is None:
                problems.append((f"{at}.table", "missing: a pick field names its code table"))
            elif f.table not in tables:
                problems.append((f"{at}.table", f"unknown code table {f.table!r} (known: {', '.join(sorted(tables))})"))
        elif f.table is not None:
            problems.append((f"{at}.table", "only pick fields use a code table"))
        if f.kind == "number":
            if f.min is None or f.max is None:
                problems.append((f"{at}.max" if f.min is not None else f"{at}.min",
                                 "missing: a number field gives min and max"))
            elif f.min > f.max:
                problems.append((f"{at}.min", f"{f.min} is above max {f.max}"))
        elif f.min is not None or f.max is not None:
            problems.append((f"{at}.min", "only number fields have bounds"))
    materials = [m.key for m in spec.materials]
    for i, m in enumerate(spec.materials):
        at = f"application.materials[{i}]"
        if materials.count(m.key) > 1:
            problems.append((f"{at}.key", f"{m.key!r} is used by another material too"))
        if m.pages_min > m.pages_max:
            problems.append((f"{at}.pages_min", f"{m.pages_min} is above pages_max {m.pages_max}"))
        if m.licence and not DOCUMENTS[m.document][2]:
            problems.append((f"{at}.licence", f"the platform keeps no 电子证照 of a {m.document}"))
    if spec.min_age is not None and spec.max_age is not None and spec.min_age > spec.max_age:
        problems.append(("application.min_age", f"{spec.min_age} is above max_age {spec.max_age}"))
    if spec.materials and "camera" not in devices:
        problems.append(("devices", "an item that takes materials needs the camera: add \"camera\""))
    if len(set(spec.delivery)) != len(spec.delivery):
        problems.append(("application.delivery", "lists a value twice"))
    return problems
