"""The base class of every screen: access to the app, the journey and the worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

if TYPE_CHECKING:
    from kiosk.services.journey import Journey, Outcome


class KioskScreen(Screen):
    """Screens read the journey and call its methods; they never do I/O themselves."""

    #: what the voice prompt / help says on this screen (zh, en)
    instruction: tuple[str, str] = ("", "")
    #: why the receipt printer cannot print now ("" when it can), for the screens that print:
    #: their print button says it instead of letting a resident press into a known failure
    printer_down_zh = StringProperty("")
    printer_down_en = StringProperty("")

    @property
    def app(self):
        return App.get_running_app()

    @property
    def journey(self) -> Journey:
        return self.app.kiosk.journey

    def on_pre_enter(self, *args):
        self.check_printer()
        self.refresh()

    def on_device_event(self, event) -> None:
        """The app hands every device event to the screen shown."""
        if event.device == "printer":
            self.check_printer()

    def check_printer(self) -> None:
        reason = self.journey.ports.devices.unavailable_reason(["printer"])
        self.printer_down_zh, self.printer_down_en = reason or ("", "")

    def refresh(self) -> None:
        """Fill the screen from the journey's current state (override)."""

    def go_home(self) -> None:
        self.journey.end("cancelled")

    def finish_item(self, outcome: Outcome) -> None:
        """End the item with ``outcome``, unless the visit has moved on while a worker ran
        (card taken away, idle timeout, 返回首页): an answer that arrives late is dropped."""
        if self.journey.state == "item":
            self.journey.finish(outcome)
