from __future__ import annotations

import subprocess
import sys

from realtime_console.commands.talk import push_to_talk_settings
from realtime_console.config import Settings
from tests.conftest import assert_no_traceback, clean_env, run_console


def test_help_lists_the_talk_flags() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "realtime_console", "talk", "--help"],
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    assert result.returncode == 0
    for flag in ("--input-device", "--output-device", "--push-to-talk", "--plain", "--voice"):
        assert flag in result.stdout


def test_push_to_talk_turns_voice_detection_off_and_keeps_the_rest() -> None:
    settings = push_to_talk_settings(Settings())
    assert settings.session.turn_detection.type == "none"
    assert settings.session.turn_detection.threshold == Settings().session.turn_detection.threshold
    assert settings.session.voice == Settings().session.voice


async def test_no_sound_server_is_exit_2_with_one_line_suggesting_chat() -> None:
    env = clean_env({"PULSE_SERVER": "unix:/nonexistent/pulse"})
    run = await run_console("--local", "talk", "--plain", env=env)
    assert_no_traceback(run)
    assert run.code == 2
    (line,) = run.stderr.strip().splitlines()
    assert "device" in line and "`chat`" in line


async def test_an_unknown_device_name_lists_the_candidates() -> None:
    run = await run_console("--local", "talk", "--plain", "--output-device", "no-such-device")
    assert_no_traceback(run)
    assert run.code == 2
    assert "no output device matches 'no-such-device'" in run.stderr


def test_turn_detection_flag_sets_the_session_setting() -> None:
    from realtime_console.cli import build_parser
    from realtime_console.config import load_settings

    args = build_parser().parse_args(["talk", "--turn-detection", "semantic_vad"])
    overrides = {key: getattr(args, flag) for flag, key in args.setting_flags.items()}
    settings = load_settings(profile=None, config_file=None, env={}, overrides=overrides)
    assert settings.session.turn_detection.type == "semantic_vad"
