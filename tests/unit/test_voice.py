"""Voice guidance: spoken for real by espeak-ng into WAV files, never blocking, mutable."""

import time
import wave

import pytest

from kiosk.voice import Voice

pytestmark = pytest.mark.skipif(not Voice().enabled, reason="espeak-ng is installed by scripts/setup.sh")


def test_a_prompt_becomes_real_mandarin_audio(tmp_path):
    voice = Voice(output="file", folder=tmp_path)
    voice.start()
    try:
        started = time.perf_counter()
        voice.say("请将居民身份证放在读卡区")
        assert time.perf_counter() - started < 0.05  # say() only queues
        assert voice.wait_idle(15)
    finally:
        voice.stop()
    spoken = voice.spoken[-1]
    assert spoken.text == "请将居民身份证放在读卡区" and spoken.lang == "zh"
    with wave.open(str(spoken.wav)) as w:
        assert w.getnframes() / w.getframerate() > 1.0  # a real utterance, not an empty file


def test_a_newer_prompt_replaces_one_still_waiting_and_mute_silences(tmp_path):
    voice = Voice(output="file", folder=tmp_path)
    voice.start()
    try:
        voice.say("第一句很长很长很长很长很长很长很长很长很长很长")
        voice.say("第二句")
        voice.say("第三句")
        assert voice.wait_idle(15)
        texts = [s.text for s in voice.spoken]
        assert "第二句" not in texts and texts[-1] == "第三句"
        voice.muted = True
        voice.say("不应读出")
        assert voice.wait_idle(5)
        assert voice.spoken[-1].text == "第三句"
    finally:
        voice.stop()
