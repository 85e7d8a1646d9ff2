from __future__ import annotations

import numpy as np
import pytest

from realtime_console.audio import devices, playback
from realtime_console.audio.playback import Playback, open_playback
from realtime_console.config import AudioSettings
from realtime_console.errors import AudioDeviceError

from .helpers import const_pcm, speaker_rig


def test_a_dropped_reply_goes_silent_and_refuses_its_late_audio() -> None:
    rig = speaker_rig(block_ms=20, prebuffer_ms=0)
    sink = Playback(rig.speaker)
    sink.audio("r1", "item_1", const_pcm(1000, 200))
    rig.stream.advance(2)  # 40 ms of it played
    sink.drop_response("r1")
    sink.audio("r1", "item_1", const_pcm(1000, 200))  # a late delta of the cut reply
    rig.stream.advance(5)
    out = rig.output()
    assert np.all(out[: 2 * 480] == 1000)
    assert not np.any(out[3 * 480 :])  # silent from the block after the fade
    sink.audio("r2", "item_2", const_pcm(2000, 40))  # the re-asked reply plays normally
    sink.response_done("r2")
    rig.stream.advance(3)
    assert np.any(rig.output()[-3 * 480 :] == 2000)
    sink.close()


def test_no_output_device_is_one_notice_and_no_playback(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> object:
        raise AudioDeviceError("PortAudio library not found")

    monkeypatch.setattr(devices, "import_sounddevice", missing)
    notices: list[str] = []
    assert open_playback(AudioSettings(), notices.append) is None
    assert notices == [
        "no audio output device: replies are not played (PortAudio library not found; "
        "or keep them with --save-audio DIR)"
    ]


def test_portaudio_without_a_speaker_is_named_as_such(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoOutputs:
        @staticmethod
        def query_devices() -> list[dict[str, object]]:
            return [{"name": "mic", "max_input_channels": 1, "max_output_channels": 0}]

    monkeypatch.setattr(devices, "import_sounddevice", lambda: NoOutputs)
    notices: list[str] = []
    assert open_playback(AudioSettings(), notices.append) is None
    assert notices == [playback.no_output("PortAudio is installed but sees no output device")]
    assert "libportaudio2" not in notices[0]  # PortAudio is there: no advice to install it


def test_a_named_device_that_does_not_exist_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> object:
        raise AudioDeviceError("PortAudio library not found")

    monkeypatch.setattr(devices, "import_sounddevice", missing)
    with pytest.raises(AudioDeviceError):
        open_playback(AudioSettings(output_device="USB"), lambda _: None)
