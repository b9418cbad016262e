"""Confirm what is paid: a bill (holder masked, amount due) or a contribution grade.

Bills arrive here already loaded by the account screen. For contributions the screen asks
the backend (on the worker) which year and grades it offers the identified resident; the
resident picks one grade from the list (and, as a flexible worker, the number of months).
Nothing personal is shown unmasked. 确认缴费 goes on to the QR code; when nothing can be paid
the screen says why and ends the item.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.errors import JourneyError, KioskError
from kiosk.money import yuan
from kiosk.screens.base import KioskScreen
from kiosk.services.payments import Charge, ContributionChoice, ContributionPaymentFlow
from kiosk.widgets.common import BigButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

SELECTED = "【已选】"  # the choice is marked in words too, never by colour alone


class PaymentConfirmScreen(KioskScreen):
    instruction = ("请核对缴费信息，确认后点击确认缴费", "Check the details, then press Pay")
    loaded = BooleanProperty(False)
    payable = BooleanProperty(False)
    is_bill = BooleanProperty(True)
    monthly = BooleanProperty(False)
    title_zh = StringProperty("")
    title_en = StringProperty("")
    amount_text = StringProperty("")
    payee_zh = StringProperty("")
    payee_en = StringProperty("")
    reason_zh = StringProperty("")
    reason_en = StringProperty("")
    selected_grade = StringProperty("")
    months = NumericProperty(1)
    months_max = NumericProperty(1)

    def refresh(self) -> None:
        self.loaded = self.payable = self.monthly = False
        self.selected_grade, self.amount_text, self.reason_zh, self.reason_en = "", "", "", ""
        self.months, self.months_max = 1, 1
        self.ids.lines.body, self.ids.bills.header, self.ids.bills.body = [], [], []
        self.ids.grades.clear_widgets()
        flow = self.journey.flow
        if flow is None:
            return
        item = self.journey.item
        self.title_zh = item.name_zh if item else ""
        self.title_en = item.name_en if item else ""
        self.is_bill = not isinstance(flow, ContributionPaymentFlow)
        if self.is_bill:
            if flow.charge is not None:
                self._show_charge(flow.charge)
                self.loaded = True
        elif flow.choice is not None:
            self._show_choice(flow.choice)
        else:
            self.app.worker.submit(flow.load_options, self._show_choice, self._failed)

    # --- filling ----------------------------------------------------------------------------

    def _show_charge(self, charge: Charge) -> None:
        self.ids.lines.body = [[label, value] for label, value in charge.lines]
        self.ids.bills.header = list(charge.table_header)
        self.ids.bills.body = [list(row) for row in charge.table_rows]
        self.payee_zh, self.payee_en = charge.payee_zh, charge.payee_en
        self.payable = charge.payable
        self.amount_text = yuan(charge.amount_fen) if charge.payable else ""
        self.reason_zh, self.reason_en = charge.reason_zh, charge.reason_en

    def _show_choice(self, choice: ContributionChoice) -> None:
        flow = self.journey.flow
        if flow is None or self.journey.state != "item":
            return  # the session ended while loading
        self.loaded = True
        self.ids.lines.body = [["缴费人", choice.masked_name], ["证件号码", choice.masked_id],
                               ["险种", choice.scheme_zh], ["缴费年度", f"{choice.year}年" if choice.year else "—"]]
        if not choice.eligible:
            self._show_charge(flow.charge)
            return
        self.payee_zh, self.payee_en = "税务部门（社会保险费征收）", "Tax bureau (social insurance contributions)"
        self.monthly = flow.scheme == "pension_flexible"
        self.months_max = choice.months_max
        self.payable = True
        self.amount_text = ""
        grid = self.ids.grades
        grid.clear_widgets()
        for grade in choice.grades:
            button = BigButton(zh=grade.label_zh, en=yuan(grade.amount_fen), kind="secondary")
            button.grade_id = grade.grade_id
            button.label_zh = grade.label_zh
            button.bind(on_release=lambda b: self.pick(b.grade_id))
            grid.add_widget(button)

    def pick(self, grade_id: str) -> None:
        self.selected_grade = grade_id
        for button in self.ids.grades.children:
            chosen = button.grade_id == grade_id
            button.zh = (SELECTED if chosen else "") + button.label_zh
            button.kind = "primary" if chosen else "secondary"
        self._price()

    def change_months(self, delta: int) -> None:
        self.months = max(1, min(self.months_max, self.months + delta))
        self._price()

    def _price(self) -> None:
        flow = self.journey.flow
        if flow is None or not self.selected_grade:
            return
        charge = flow.choose(self.selected_grade, int(self.months))
        self.amount_text = yuan(charge.amount_fen)
        self.payee_zh, self.payee_en = charge.payee_zh, charge.payee_en

    # --- actions ----------------------------------------------------------------------------

    def confirm(self) -> None:
        flow = self.journey.flow
        if flow is None or not self.payable or flow.charge is None or (not self.is_bill and not self.selected_grade):
            return
        self.app.navigator.go("payment_qr")

    def change_account(self) -> None:
        self.app.navigator.go("payment_account")

    def nothing_to_pay(self) -> None:
        flow = self.journey.flow
        if flow is not None:
            self.app.worker.submit(flow.nothing_to_pay, self.finish_item, self._failed)

    def _failed(self, error: KioskError) -> None:
        flow = self.journey.flow
        if flow is None or self.journey.state != "item":
            return
        if isinstance(error, JourneyError):
            self.reason_zh, self.reason_en = error.message_zh, error.message_en
            return
        self.app.worker.submit(lambda: flow.order_failed(error), self.finish_item)
