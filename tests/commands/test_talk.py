from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


async def test_no_credentials_and_no_sound_reports_the_credentials_first(tmp_path: Path) -> None:
    # The fix for credentials is a variable or --local; for sound it may be hardware. The same
    # line whether or not a sound server is there, and no device is opened for a run that
    # cannot connect.
    for sound in ({"PULSE_SERVER": "unix:/nonexistent/pulse"}, {}):
        run = await run_console("talk", "--plain", env=clean_env(sound, home=tmp_path))
        assert_no_traceback(run)
        assert run.code == 2
        (line,) = run.stderr.strip().splitlines()
        assert line.startswith("realtime-console: no credentials: set AZURE_OPENAI_ENDPOINT")
        assert line.endswith("or add --local to use the built-in local server")


async def test_a_profile_asking_for_a_key_that_is_not_set_is_reported_before_devices(
    tmp_path: Path,
) -> None:
    profile = tmp_path / "key.toml"
    profile.write_text('[connection]\nprovider = "openai"\n')
    env = clean_env({"PULSE_SERVER": "unix:/nonexistent/pulse"}, home=tmp_path)
    run = await run_console("--config", str(profile), "talk", "--plain", env=env)
    assert_no_traceback(run)
    assert run.code == 2 and "OPENAI_API_KEY is not set" in run.stderr


async def test_the_full_screen_ui_leaves_the_conversation_behind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from realtime_console.commands.talk import _TextualUi
    from realtime_console.ui.tui.app import TalkApp
    from realtime_console.ui.tui.demo import SCRIPT, DemoControls, Mic, play

    async def no_wait(seconds: float) -> None:
        return None

    controls = DemoControls()
    app = TalkApp(controls, title="talk", push_to_talk=False)
    controls.view = app
    ui = _TextualUi(app)
    ui.leave_report("talk.jsonl")  # the screen was never taken (a device failed first): nothing
    assert capsys.readouterr() == ("", "")
    async with app.run_test(size=(100, 30)):
        ui.ran = True
        await play(app, Mic(app), SCRIPT, sleep=no_wait)
    ui.leave_report("talk.jsonl")
    shown = capsys.readouterr()
    assert shown.out.startswith("you (heard)> What's the weather going to be like in Lisbon")
    assert shown.out.count("\nassistant> ") == 3 and shown.out.endswith("\n")
    assert shown.err == "-- talk ended: 3 replies, 1 cut, 1 server error; event log: talk.jsonl\n"
