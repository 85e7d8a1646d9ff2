from __future__ import annotations

import numpy as np
import pytest

from realtime_console.protocol import pcm


def test_b64_round_trip_and_length_without_decoding() -> None:
    for n in (0, 2, 4, 6, 480, 4802):
        data = bytes(range(256)) * (n // 256) + bytes(n % 256)
        text = pcm.encode_b64(data)
        assert pcm.decode_b64(text) == data
        assert pcm.b64_decoded_len(text) == n


def test_decode_rejects_bad_base64_and_odd_lengths() -> None:
    with pytest.raises(pcm.PcmError, match="base64"):
        pcm.decode_b64("not base64!!")
    with pytest.raises(pcm.PcmError, match="even"):
        pcm.decode_b64(pcm.encode_b64(b"\x00\x01\x02"))


def test_ms_conversions_at_24k() -> None:
    assert pcm.BYTES_PER_MS == 48
    assert pcm.bytes_to_ms(48_000) == 1000.0
    assert pcm.ms_to_bytes(20) == 960
    assert pcm.ms_to_samples(10) == 240
    assert pcm.samples_to_ms(240) == 10.0


def test_float_round_trip_clips_instead_of_wrapping() -> None:
    samples = np.array([0.0, 0.5, -0.5, 1.5, -1.5], dtype=np.float32)
    back = pcm.pcm16_to_float32(pcm.float32_to_pcm16(samples))
    assert back[1] == pytest.approx(0.5, abs=1e-4)
    assert back[3] == pytest.approx(32767 / 32768)
    assert back[4] == -1.0


def test_rms_dbfs() -> None:
    assert pcm.rms_dbfs(b"") == -120.0
    assert pcm.rms_dbfs(bytes(960)) == -120.0
    full_scale_square = pcm.float32_to_pcm16(np.tile([0.999, -0.999], 240))
    assert pcm.rms_dbfs(full_scale_square) == pytest.approx(0.0, abs=0.05)
