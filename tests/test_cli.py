import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_help_lists_every_subcommand_with_one_line():
    out = subprocess.run(
        [sys.executable, "-m", "alarm.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    from alarm.registry import STAGES

    for stage in STAGES.values():
        assert stage.command in out, stage.command
        assert stage.help and "\n" not in stage.help


def alarm(*args):
    return subprocess.run(
        [sys.executable, "-m", "alarm.cli", *args], capture_output=True, text=True, cwd=REPO
    )


def one_error_line(result) -> str:
    """The message of a refused command: exit 2, one line, no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return lines[-1]


def test_an_unknown_stage_is_named():
    assert "invalid choice: 'generate-r1'" in one_error_line(alarm("generate-r1"))


def test_a_missing_key_is_named():
    line = one_error_line(alarm("collect", "--shard", "0", "--source", "s", "--output", "o"))
    assert "the following arguments are required: --dataset" in line


def test_a_dataset_not_in_the_config_is_named():
    line = one_error_line(
        alarm("collect", "--dataset", "voxceleb9", "--shard", "0", "--source", "s", "--output", "o")
    )
    assert "dataset 'voxceleb9' is not in the configuration" in line


def test_a_stage_by_hand_takes_the_default_config_and_names_a_missing_file():
    # No --settings and no --configfile: config/config.yaml, as for the Snakefile.
    line = one_error_line(alarm("audio-filter", "--input", "missing.parquet", "--output", "o"))
    assert "no such file: missing.parquet" in line


def test_bad_settings_json_is_named():
    line = one_error_line(alarm("audio-filter", "--input", "a", "--output", "b", "--settings", "{"))
    assert "--settings is not valid JSON" in line


def test_by_hand_settings_are_the_rules(default_config):
    """--configfile picks out of the config exactly what the Snakefile passes as --settings."""
    import argparse

    from alarm.registry import STAGES, resolve

    keys = {"dataset": "synthetic_squad", "model": "alarm_ca", "role": "rlm",
            "benchmark": "synthetic"}  # fmt: skip
    for stage in STAGES.values():
        ns = argparse.Namespace(
            configfile=[str(REPO / "config" / "config.yaml")],
            settings=None,
            knobs=None,
            threads=None,
            **keys,
        )
        mine = {k: v for k, v in keys.items() if k in stage.keys}
        if stage.name == "download_pretrained":
            continue  # every role of the default config is a tiny model
        got = resolve(stage, ns)
        assert got.settings == stage.settings_of(default_config, **mine), stage.name
        assert got.knobs == stage.knobs_of(default_config, **mine), stage.name
        assert got.threads == stage.threads_of(default_config), stage.name


def test_a_stage_computes_with_the_threads_it_is_given():
    """--threads (the rule's job threads; by hand the config's) reaches torch whether or
    not torch is loaded yet, and the processes the stage starts."""
    check = (
        "import sys, os; from alarm.cli import use_threads; {before}"
        "use_threads(1); import torch; "
        "print(torch.get_num_threads(), os.environ['OMP_NUM_THREADS'])"
    )
    for before in ("", "import torch; torch.set_num_threads(2); "):
        out = subprocess.run(
            [sys.executable, "-c", check.format(before=before)],
            capture_output=True, text=True, check=True,
            env={k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"},
        ).stdout  # fmt: skip
        assert out.split() == ["1", "1"]
    line = one_error_line(alarm("audio-filter", "--input", "i", "--output", "o", "--threads", "0"))
    assert "--threads must be at least 1" in line


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


def test_a_job_imports_transformers_without_scikit_learn():
    # alarm.imports: the start-up import transformers makes for features no stage uses.
    probe = (
        "import sys, alarm.cli\n"
        "from transformers import AutoModelForCausalLM, AutoTokenizer\n"
        "from transformers.generation import candidate_generator\n"
        "print('sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
