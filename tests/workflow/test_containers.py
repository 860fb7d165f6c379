"""Apptainer definitions: each installs exactly its pinned set from envs/, every rule names one."""

import re

import pytest
from spython.main.parse.parsers import SingularityParser
from workflow_helpers import REPO

from alarm.cluster import image_problems

IMAGES = ("data", "train", "vllm")


def _recipe(name):
    return next(iter(SingularityParser(str(REPO / "containers" / f"{name}.def")).recipe.values()))


def _pins(path):
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


@pytest.mark.parametrize("name", IMAGES)
def test_definition_installs_its_locked_environment(name):
    recipe = _recipe(name)
    assert recipe.files == [f"envs/{name}.txt /opt/alarm/envs/{name}.txt"]
    installs = [c for c in recipe.install if "pip install" in c]
    assert installs == [
        f"uv pip install --python /opt/venv/bin/python --no-cache -r /opt/alarm/envs/{name}.txt"
    ]
    assert any("UV_PYTHON_INSTALL_DIR=/opt" in c for c in recipe.install)  # readable by every user
    assert "PATH=/opt/venv/bin:$PATH" in recipe.environ
    # CUDA 12.8, the build of the pinned torch wheels (the data image's CPU jobs only need
    # its small runtime base).
    assert recipe.fromHeader.startswith("nvidia/cuda:12.8")


@pytest.mark.parametrize("name", IMAGES)
def test_the_lock_pins_every_requested_version(name):
    requested = _pins(REPO / "envs" / f"{name}.in")
    locked = _pins(REPO / "envs" / f"{name}.txt")
    assert locked and all(version for version in locked.values())  # everything pinned
    for package, version in requested.items():
        assert package in locked, package
        if version:
            assert locked[package] == version, package
    if "torch" in locked:  # torchaudio is built against one torch release
        assert locked["torchaudio"].split(".")[:2] == locked["torch"].split(".")[:2]


def test_the_cpu_set_pairs_torch_and_torchaudio():
    locked = _pins(REPO / "envs" / "cpu.txt")
    assert locked["torch"] == locked["torchaudio"] == "2.11.0" and locked["torchvision"] == "0.26.0"
    assert "vllm" not in locked  # the laptop set runs the transformers backend only


def test_every_rule_runs_in_one_of_the_images():
    rules = "\n".join(p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))
    containers = re.findall(r"container:\s*\n\s*image\(\"(\w+|\{name\})\"\)", rules)
    assert containers and set(containers) <= {*IMAGES, "{name}"}
    n_rules = len(re.findall(r"^rule \w+:", rules, re.MULTILINE))
    host_rules = len(re.findall(r"conda:\s*\n\s*\"../../envs/apptainer.yaml\"", rules))
    assert len(containers) + host_rules == n_rules  # host rules: building images, srun launches


def test_a_run_in_apptainer_without_its_images_says_how_to_get_them(tmp_path):
    present = tmp_path / "train.sif"
    present.touch()
    missing = str(tmp_path / "vllm.sif")
    problems = image_problems([str(present), missing], build=False)
    assert len(problems) == 1 and problems[0].startswith(f"{missing} is missing")
    assert "containers.build: true" in problems[0]
    assert image_problems([missing], build=True) == []  # the workflow builds it first
