"""English for the words that come in data: what the platform names schemes and states, and the
column names of the tables the screens and papers show.

These are not screen strings of the code, so the catalogue would not know them; written here
as pairs, ``kiosk i18n extract`` takes them into it, and every label (``kiosk.i18n``) shows
the English beside them. A word the platform sends that is not here stays Chinese in English
mode, which is better than a guess. Numbers with units (324个月, 11吨) are turned by
``kiosk.i18n.units_english``.
"""

from __future__ import annotations

#: (Chinese as the platform or the code writes it, English)
DATA_WORDS: tuple[tuple[str, str], ...] = (
    # schemes
    ("企业职工基本养老保险", "Employee basic pension insurance"),
    ("城乡居民基本养老保险", "Resident basic pension insurance"),
    ("灵活就业人员基本养老保险", "Flexible workers' basic pension insurance"),
    ("职工基本医疗保险", "Employee basic medical insurance"),
    ("城乡居民基本医疗保险", "Resident basic medical insurance"),
    # a scheme's state
    ("参保缴费", "Contributing"),
    ("待遇享受", "Receiving benefits"),
    ("暂停缴费", "Contributions paused"),
    # table columns and line names
    ("户名", "Account holder"),
    ("账期", "Period"),
    ("用量", "Usage"),
    ("金额", "Amount"),
    ("发放年月", "Month paid"),
    ("发放日期", "Date paid"),
    ("银行", "Bank"),
    ("年度", "Year"),
    ("个人缴费", "Personal contribution"),
    ("政府补贴", "Government subsidy"),
    ("缴费年度", "Year"),
    ("缴费月数", "Months"),
    ("收款单位", "Payee"),
)
