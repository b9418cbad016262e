"""Voice guidance: each screen's main instruction and every error, spoken.

The TTS engine is espeak-ng (Debian package, Mandarin voice ``cmn``). Speaking never blocks
the caller: prompts go to one worker thread, and a new prompt replaces one still waiting
(a resident who has moved on does not want to hear the last screen). Output goes to the
speaker, or to WAV files in a folder (simulated mode and tests, where there is no sound
card). What is spoken is always shown as text too — this module only speaks.
No kivy here.
"""

from __future__ import annotations

import logging
import math
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import wave
from collections import deque
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

VOICES = {"zh": "cmn", "en": "en"}
#: players tried for the reminder beep, in order (ALSA, PulseAudio, PipeWire)
PLAYERS = ("aplay", "paplay", "pw-play")
BEEP = "<beep>"  # how a beep appears in ``spoken``


def write_beep(path: Path, *, hz: float = 880.0, seconds: float = 0.15, rate: int = 16000) -> Path:
    """A short sine beep with soft edges, as a 16-bit mono WAV."""
    frames = int(rate * seconds)
    fade = max(1, frames // 10)
    samples = (
        int(12000 * min(1.0, i / fade, (frames - i) / fade) * math.sin(2 * math.pi * hz * i / rate))
        for i in range(frames)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return path


@dataclass(frozen=True)
class Spoken:
    text: str
    lang: str
    at: float
    wav: Path | None  # the file written (file output), else None


class Voice:
    def __init__(
        self,
        *,
        enabled: bool = True,
        output: str = "speaker",  # speaker | file
        folder: Path | None = None,
        engine: str = "espeak-ng",
        rate: int = 150,  # words per minute: slower than the default for older residents
        keep_files: int = 20,
    ) -> None:
        self.enabled = enabled and shutil.which(engine) is not None
        if enabled and not self.enabled:
            log.warning("voice guidance off: %s is not installed", engine)
        self.output, self.folder, self.engine, self.rate = output, folder, engine, rate
        self.keep_files = keep_files
        self.muted = False
        self.spoken: deque[Spoken] = deque(maxlen=50)
        self._pending: tuple[str, str] | None = None
        self._beep = False  # a beep waiting (after the prompt, if one is waiting too)
        self._beep_wav: Path | None = None
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._count = 0

    def start(self) -> None:
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def say(self, text: str, lang: str = "zh") -> None:
        """Queue a prompt (replacing one not yet spoken). Returns at once."""
        text = " ".join(text.split())
        if not text or not self.enabled or self.muted:
            return
        with self._cond:
            self._pending = (text, lang)
            self._cond.notify()

    def beep(self) -> None:
        """A short reminder tone (a card left in a reader). Returns at once."""
        if not self.enabled or self.muted:
            return
        with self._cond:
            self._beep = True
            self._cond.notify()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """For tests and the tour: until nothing is waiting to be spoken."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                if self._pending is None and not self._beep and not self._busy:
                    return True
            time.sleep(0.02)
        return False

    _busy = False

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._beep and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                prompt, self._pending = self._pending, None
                beep, self._beep = self._beep and prompt is None, self._beep and prompt is not None
                self._busy = True
            try:
                if prompt is not None:
                    self._speak(*prompt)
                if beep:
                    self._play_beep()
            finally:
                with self._cond:
                    self._busy = False

    def _play_beep(self) -> None:
        if self._beep_wav is None:
            folder = self.folder if self.folder is not None else Path(tempfile.gettempdir())
            try:
                self._beep_wav = write_beep(folder / "beep.wav")
            except OSError as e:
                log.warning("reminder beep not written: %s", e)
                return
        if self.output == "speaker":
            player = next((p for p in PLAYERS if shutil.which(p)), None)
            if player is None:
                log.warning("reminder beep not played: none of %s is installed", ", ".join(PLAYERS))
                return
            try:
                subprocess.run([player, str(self._beep_wav)], capture_output=True, timeout=5)
            except (OSError, subprocess.TimeoutExpired) as e:
                log.warning("reminder beep not played: %s", e)
                return
        self.spoken.append(Spoken(text=BEEP, lang="", at=time.time(), wav=self._beep_wav))

    def _speak(self, text: str, lang: str) -> None:
        cmd = [self.engine, "-v", VOICES.get(lang, "cmn"), "-s", str(self.rate)]
        wav = None
        if self.output == "file" and self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._count += 1
            wav = self.folder / f"prompt-{self._count % self.keep_files:02d}.wav"
            cmd += ["-w", str(wav)]
        try:
            proc = subprocess.run([*cmd, "--", text], capture_output=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as e:
            log.warning("voice prompt not spoken: %s", e)
            return
        if proc.returncode != 0:
            log.warning("voice prompt not spoken: %s", proc.stderr.decode(errors="replace").strip()[:200])
            return
        self.spoken.append(Spoken(text=text, lang=lang, at=time.time(), wav=wav))
