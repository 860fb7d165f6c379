import subprocess
import sys


def test_help_lists_every_subcommand_with_one_line():
    out = subprocess.run(
        [sys.executable, "-m", "alarm.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    from alarm.cli import COMMANDS

    for name, cmd in COMMANDS.items():
        assert name in out, name
        assert cmd.help and "\n" not in cmd.help


def test_stages_need_settings_or_a_configfile():
    result = subprocess.run(
        [sys.executable, "-m", "alarm.cli", "audio-filter", "--input", "a", "--output", "b"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "--settings" in result.stderr


def test_a_bad_configfile_is_a_clear_error(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("seed: x\n")
    result = subprocess.run(
        [sys.executable, "-m", "alarm.cli", "validate-config", "config/config.yaml", str(bad)],
        capture_output=True,
        text=True,
    )
    assert (
        result.returncode == 2
        and "config key 'seed': 'x' is not of type 'integer'" in result.stderr
    )
