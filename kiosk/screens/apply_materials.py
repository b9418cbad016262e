"""申办 step 2: the materials, photographed on the document camera (高拍仪).

The list of the item's materials on top, each saying what it has (pages taken, the 电子证照 picked,
to hand in later); the live picture of the camera below, with the page it sees outlined (green
once it lies still); the buttons for the chosen material: take a page, take the last one away,
use the 电子证照 the platform holds, hand it in later. The screen asks the camera to look while
it is shown and lets it go when it is left; it copies the camera's ready-made previews into the
picture a few times a second. Taking a page waits on the worker until the page lies still.
"""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

import kiosk.widgets.camera_view  # noqa: F401 - CameraView in the kv rule
from kiosk.errors import KioskError
from kiosk.screens.base import KioskScreen
from kiosk.widgets.camera_view import PageThumb

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

#: how often the picture is refreshed from the camera's previews
PREVIEW_HZ = 8


class MaterialRow(ButtonBehavior, BoxLayout):
    key = StringProperty("")
    name_zh = StringProperty("")
    name_en = StringProperty("")
    state_zh = StringProperty("")
    state_en = StringProperty("")
    chosen = BooleanProperty(False)
    done = BooleanProperty(False)
    required = BooleanProperty(True)


class ApplyMaterialsScreen(KioskScreen):
    current = StringProperty("")
    current_zh = StringProperty("")
    current_en = StringProperty("")
    pages_min = NumericProperty(1)
    pages_max = NumericProperty(1)
    taken = NumericProperty(0)
    has_licence = BooleanProperty(False)
    licence_zh = StringProperty("")
    required = BooleanProperty(True)
    all_done = BooleanProperty(False)
    capturing = BooleanProperty(False)
    camera_down_zh = StringProperty("")
    camera_down_en = StringProperty("")
    message_zh = StringProperty("")
    message_en = StringProperty("")
    message_level = StringProperty("info")

    _ticker = None
    _looking = False

    @property
    def instruction(self):  # type: ignore[override]
        return ("请将材料平放在高拍仪下方（身份证可从读卡区取下拍摄），放好后把手移开，再点“拍摄这一页”",
                "Lay the page flat under the document camera (you may take your ID card off the reader for it), "
                "take your hand away, then tap Take this page")

    @property
    def flow(self):
        return self.journey.flow

    def on_pre_enter(self, *args):
        flow = self.flow
        if flow is None or not getattr(flow, "materials", None):
            return
        self.message_zh = self.message_en = ""
        first = next((k for k, m in flow.materials.items() if not m.done), next(iter(flow.materials)))
        self.choose(self.current if self.current in flow.materials else first)
        self._check_camera()

    def on_enter(self, *args):
        camera = self.flow.camera() if self.flow is not None else None
        if camera is not None and not self._looking:
            camera.acquire()
            self._looking = True
        self._ticker = Clock.schedule_interval(self._show_preview, 1 / PREVIEW_HZ)

    def on_leave(self, *args):
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self._let_go()

    def _let_go(self) -> None:
        if self._looking:
            camera = self.app.kiosk.hub.device("camera")
            if camera is not None:
                camera.release()
            self._looking = False
        self.ids.picture.show(None)

    def _show_preview(self, _dt) -> None:
        flow = self.flow
        camera = flow.camera() if flow is not None and hasattr(flow, "camera") else None
        self.ids.picture.show(camera.preview() if camera is not None else None)

    def on_device_event(self, event) -> None:
        super().on_device_event(event)
        if event.device == "camera":
            self._check_camera()

    def _check_camera(self) -> None:
        reason = self.journey.ports.devices.unavailable_reason(["camera"])
        self.camera_down_zh, self.camera_down_en = reason or ("", "")

    # --- the materials -------------------------------------------------------------------------

    def choose(self, key: str) -> None:
        flow = self.flow
        material = flow.materials[key]
        self.current = key
        self.current_zh, self.current_en = material.spec.name_zh, material.spec.name_en
        self.pages_min, self.pages_max = material.spec.pages_min, material.spec.pages_max
        self.required = material.spec.required
        licence = flow.licence_for(key)
        self.has_licence = licence is not None
        self.licence_zh = licence["name_zh"] if licence else ""
        self._refresh()

    def _refresh(self) -> None:
        flow = self.flow
        if flow is None:
            return
        box = self.ids.materials
        box.clear_widgets()
        for key, m in flow.materials.items():
            zh, en = m.shown()
            row = MaterialRow(key=key, name_zh=m.spec.name_zh, name_en=m.spec.name_en, state_zh=zh, state_en=en,
                              chosen=key == self.current, done=m.done and (m.source != "none" or m.later),
                              required=m.spec.required)
            row.bind(on_release=lambda r: self.choose(r.key))
            box.add_widget(row)
        material = flow.materials[self.current]
        self.taken = len(material.pages)
        thumbs = self.ids.thumbs
        thumbs.clear_widgets()
        for page in material.pages:
            thumbs.add_widget(PageThumb(page))
        self.all_done = flow.materials_done()

    def capture(self) -> None:
        flow = self.flow
        if flow is None or self.capturing:
            return
        self.capturing = True
        self._say("请保持材料静止，正在拍摄……", "Keep the page still: taking it...", "info")
        key = self.current
        self.app.worker.submit(lambda: flow.capture(key), self._captured, self._not_captured)

    def _captured(self, count: int) -> None:
        self.capturing = False
        material = self.flow.materials[self.current] if self.flow is not None else None
        if material is None:
            return
        more = material.spec.pages_max - count
        if count < material.spec.pages_min:
            self._say(f"已拍摄第{count}页，请翻面或放下一页后继续拍摄",
                      f"Page {count} taken: turn it over or lay the next page and take it", "success")
        elif more > 0:
            self._say(f"已拍摄第{count}页。如还有其他页可继续拍摄，否则请选择下一份材料",
                      f"Page {count} taken. Take more pages if there are any, or go on to the next material", "success")
        else:
            self._say(f"已拍摄第{count}页，这份材料已完成", f"Page {count} taken: this material is done", "success")
        self._refresh()
        if material.done and count >= material.spec.pages_max:
            self._next_open()

    def _not_captured(self, error: KioskError) -> None:
        self.capturing = False
        self._say(error.message_zh, error.message_en, "error")

    def _next_open(self) -> None:
        flow = self.flow
        following = [k for k, m in flow.materials.items() if not m.done or (m.source == "none" and not m.later)]
        if following and following[0] != self.current:
            self.choose(following[0])

    def remove_last(self) -> None:
        self.flow.remove_page(self.current)
        self._say("已删除最后一页，可重新拍摄", "The last page is deleted; take it again", "info")
        self._refresh()

    def use_licence(self) -> None:
        try:
            self.flow.use_licence(self.current)
        except KioskError as e:
            self._say(e.message_zh, e.message_en, "error")
            return
        self._say(f"已选用{self.licence_zh}，无需拍摄", "Your electronic licence is used: nothing to photograph", "success")
        self._refresh()
        self._next_open()

    def later(self) -> None:
        self.flow.hand_in_later(self.current)
        self._say("已标记为稍后补交，工作人员审核时会通知您补交", "Marked to hand in later: staff will tell you how", "warning")
        self._refresh()
        self._next_open()

    def reset(self) -> None:
        self.flow.reset_material(self.current)
        self._refresh()

    def _say(self, zh: str, en: str, level: str) -> None:
        self.message_zh, self.message_en, self.message_level = zh, en, level
        self.app.speak(zh, en)

    def back(self) -> None:
        self.app.navigator.go("apply_form")

    def next_step(self) -> None:
        if self.flow is not None and self.flow.materials_done() and not self.capturing:
            self.app.navigator.go("apply_sign")
