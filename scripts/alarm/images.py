"""Apptainer images: what each one holds, the record of its build, and whether it still
matches the checkout.

``containers/{name}.sif`` holds its pinned environment (``envs/{name}.txt``), the
``alarm`` package (a wheel built from the checkout at build time) and the other checkout
files its definition's ``%files`` names (the config schema and default config the package
reads, the GPU smoke tests). It is built from a build context that mirrors the checkout,
plus two entries the build makes: ``wheel/`` and ``image.json``, the record.

The record (also kept beside the image as ``containers/{name}.sif.json``) names the commit
and a sha256 of the definition, of the lock and of the code: every file the image copies
from the checkout besides those two, and the package's sources. The workflow lists images
as ``ancient()`` inputs, so a rebuild never reruns a job by date; instead, before anything
is submitted, each image a job will use is compared with the checkout (:func:`problem`).
An image that no longer matches is rebuilt deliberately, with :func:`rebuild_command`.

The base image is built from a digest, never a tag: a definition that names its base by tag
(``From: nvidia/cuda:13.0.1-base-ubuntu22.04``) is built from the digest the registry gives
that tag at build time, recorded as ``base``; ``python -m alarm.images pin`` writes that
digest into the definition (``From: nvidia/cuda@sha256:...``, the tag kept in a ``# tag:``
line above it), so that every site builds the same base.

Only the standard library: the cluster's login node runs this without the package's
dependencies (``python -m alarm.images build NAME``, from the rule build_container).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path

# The package's sources: what the wheel is built from.
PACKAGE = ("pyproject.toml", "scripts/alarm")
# %files sources the build makes (everything else comes from the checkout).
MADE = ("wheel", "image.json")
RECORD_SUFFIX = ".json"  # containers/{name}.sif -> containers/{name}.sif.json
PARTS = {"definition": "containers/{name}.def", "lock": "envs/{name}.txt", "code": "the code"}
SMOKE_TEST = "results/smoke/{name}.ok"  # the output of the rule gpu_smoke_test
MIN_SETUPTOOLS = 77  # builds pyproject's `license = "MIT"` (PEP 639)
# Where a base image named without a registry host is resolved: Docker Hub, or the site's
# pull-through mirror of it (ALARM_DOCKER_HUB; a digest is a content address, the same there).
DOCKER_HUB = "https://registry-1.docker.io"
# Multi-platform indexes first: the digest pinned is the one `docker pull` prints, from which
# Apptainer picks the node's platform.
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
TAG_LINE = "# tag: "  # above a pinned From: line, the tag its digest was resolved from


def rebuild_command(images: Iterable[str], checkout: Path) -> str:
    """The deliberate rebuild of these images, and of nothing else (images are ancient()
    inputs: no job that runs in them is rerun); an image holding GPU smoke tests is
    smoke-tested again in the same run (the rule gpu_smoke_test's output, SMOKE_TEST).

    Run it on its own, not folded into a workflow run: Snakemake 9 leaves the jobs below a
    job it reruns unexamined when their only link to it is an ancient() input
    (snakemake/snakemake#4166), so a run that also rebuilt images would skip jobs it
    should run until the next invocation."""
    targets = []
    for image in images:
        targets.append(str(image))
        name = Path(image).name.removesuffix(".sif")
        definition = checkout / PARTS["definition"].format(name=name)
        if definition.exists() and any(
            src == "tests/gpu" for src, _ in copied_files(definition.read_text())
        ):
            targets.append(SMOKE_TEST.format(name=name))
    return f"snakemake --force {' '.join(targets)}"


def record_path(image: str | os.PathLike) -> Path:
    return Path(f"{image}{RECORD_SUFFIX}")


def copied_files(definition: str) -> list[tuple[str, str]]:
    """The (source, destination) pairs of a definition's ``%files`` sections."""
    pairs, section = [], None
    for line in definition.splitlines():
        if line.startswith("%"):
            section = line.split()[0][1:]
            continue
        words = line.split("#", 1)[0].split()
        if section == "files" and words:
            pairs.append((words[0], words[-1]))
    return pairs


def base_of(definition: str) -> tuple[str, str | None]:
    """The base image a definition's ``From:`` line names, and the tag it was resolved
    from (the ``# tag:`` line above a pinned ``From:``; the ``From:`` itself when a tag)."""
    tag = None
    for line in definition.splitlines():
        if line.startswith(TAG_LINE):
            tag = line.removeprefix(TAG_LINE).strip()
        elif line.startswith("From:"):
            base = line.split(":", 1)[1].strip()
            return base, tag if "@" in base else base
    raise ValueError("the definition has no From: line")


def _split(reference: str) -> tuple[str, str]:
    """(name, tag or digest) of an image reference; a bare name means its tag latest."""
    name, at, digest = reference.partition("@")
    if at:
        return name, digest
    head, colon, tag = name.rpartition(":")
    return (head, tag) if colon and "/" not in tag else (name, "latest")


def _registry(name: str) -> tuple[str, str]:
    """(registry URL, repository) of an image name, as Docker reads it: a first component
    with a dot, a port or ``localhost`` is a host (plain HTTP for this machine), anything
    else is Docker Hub's (``library/`` for its official images)."""
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        local = first.split(":")[0] in ("localhost", "127.0.0.1")
        return f"{'http' if local else 'https'}://{first}", rest
    hub = os.environ.get("ALARM_DOCKER_HUB", DOCKER_HUB).rstrip("/")
    return hub, name if slash else f"library/{name}"


def _bearer_token(challenge: str) -> str:
    """The token a registry's challenge (``Bearer realm="...",service="...",scope="..."``)
    asks for: an anonymous pull token, which Docker Hub gives anyone."""
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    realm = fields.pop("realm")
    with urllib.request.urlopen(f"{realm}?{urllib.parse.urlencode(fields)}", timeout=60) as r:
        answer = json.load(r)
    return answer.get("token") or answer["access_token"]


def registry_digest(tag: str) -> str:
    """The digest the registry gives the image ``tag`` names, now: a HEAD of its manifest
    (the distribution API; Docker Hub does not count a HEAD against its pull limit)."""
    name, ref = _split(tag)
    registry, repository = _registry(name)
    url = f"{registry}/v2/{repository}/manifests/{ref}"
    headers = {"Accept": ", ".join(MANIFEST_TYPES)}

    def head() -> str:
        request = urllib.request.Request(url, headers=headers, method="HEAD")
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.headers.get("Docker-Content-Digest", "")

    try:
        try:
            digest = head()
        except urllib.error.HTTPError as err:
            challenge = err.headers.get("WWW-Authenticate", "")
            if err.code != 401 or not challenge.lower().startswith("bearer "):
                raise
            headers["Authorization"] = f"Bearer {_bearer_token(challenge[len('bearer ') :])}"
            digest = head()
    except (OSError, ValueError, KeyError) as err:  # HTTP and network errors are OSErrors
        raise SystemExit(
            f"cannot resolve the base image {tag} to a digest at {registry} ({err}); where "
            "Docker Hub is reached through a mirror, set ALARM_DOCKER_HUB to its URL, or pin "
            "the digest your site pulls in the definition (From: NAME@sha256:...)"
        ) from err
    if not DIGEST.fullmatch(digest):
        raise SystemExit(f"{registry} gave {tag} no sha256 digest (got {digest!r})")
    return digest


def pinned(definition: str, digest: str) -> str:
    """``definition`` with its base named by ``digest`` (Apptainer, like every user of
    containers/image, refuses a reference with both a tag and a digest), its tag kept in
    the ``# tag:`` line above."""
    base, tag = base_of(definition)
    name, _ = _split(base)
    lines = []
    for line in definition.splitlines():
        if line.startswith("From:"):
            lines += [f"{TAG_LINE}{tag}", f"From: {name}@{digest}"]
        elif not line.startswith(TAG_LINE):
            lines.append(line)
    return "\n".join(lines) + "\n"


def pin(name: str, checkout: Path) -> str:
    """Write into ``containers/{name}.def`` the digest its base's tag has now."""
    path = checkout / PARTS["definition"].format(name=name)
    text = path.read_text()
    _, tag = base_of(text)
    if tag is None:
        raise SystemExit(f"{path} names its base by digest without a {TAG_LINE!r} line to pin")
    digest = registry_digest(tag)
    path.write_text(pinned(text, digest))
    return f"{path}: {tag} pinned to {digest}"


def _git(checkout: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(checkout), *args], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout


def commit(checkout: Path) -> str:
    """``git rev-parse HEAD``, with ``-dirty`` when tracked files have uncommitted changes
    (as ``git describe --dirty``); ``unknown`` outside a git checkout."""
    head = _git(checkout, "rev-parse", "HEAD")
    if head is None:
        return "unknown"
    changes = _git(checkout, "status", "--porcelain", "--untracked-files=no")
    return head.strip() + ("-dirty" if changes else "")


def checkout_files(checkout: Path, paths: Iterable[str]) -> list[str]:
    """The files under ``paths`` (relative to the checkout): tracked or untracked but not
    ignored ones in a git checkout (no caches, no build leftovers), else every file but
    Python caches."""
    paths = list(paths)
    listed = _git(checkout, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                  "--", *paths)  # fmt: skip
    if listed is not None:
        files = {f for f in listed.split("\0") if f}
    else:
        files = set()
        for path in paths:
            root = checkout / path
            found = [root] if root.is_file() else root.rglob("*")
            files |= {
                p.relative_to(checkout).as_posix()
                for p in found
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
            }
    return sorted(f for f in files if (checkout / f).is_file())


def sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _tree_digest(root: Path, files: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for f in sorted(files):
        digest.update(f"{f}\0{sha256(root / f)}\n".encode())
    return digest.hexdigest()


def _code_paths(checkout: Path, name: str) -> list[str]:
    definition = (checkout / PARTS["definition"].format(name=name)).read_text()
    lock = PARTS["lock"].format(name=name)
    sources = [src for src, _ in copied_files(definition) if src not in (*MADE, lock)]
    return [*PACKAGE, *sources]


def fingerprint(checkout: Path, name: str, files: list[str] | None = None) -> dict[str, str]:
    """What image ``name`` built from ``checkout`` holds: the commit and a sha256 of its
    definition, its lock and its code (``files``, relative to the checkout: by default
    what :func:`checkout_files` lists for the package and the definition's ``%files``)."""
    if files is None:
        files = checkout_files(checkout, _code_paths(checkout, name))
    return {
        "image": name,
        "commit": commit(checkout),
        "definition": sha256(checkout / PARTS["definition"].format(name=name)),
        "lock": sha256(checkout / PARTS["lock"].format(name=name)),
        "code": _tree_digest(checkout, files),
    }


def problem(image: str, checkout: Path) -> str | None:
    """Why ``image`` (containers/{name}.sif) does not hold what the checkout would put in
    it, naming what changed and how to rebuild it; None when it matches."""
    rebuild = (
        f"rebuild it, on its own, with `{rebuild_command([image], checkout)}` and your "
        "run's --configfile and --profile (no other job is rerun), then start the run again"
    )
    record = record_path(image)
    try:
        built = json.loads(record.read_text())
    except (OSError, ValueError):
        built = None
    if not isinstance(built, dict):
        return (
            f"{image} has no build record ({record}): it was not built by the rule "
            f"build_container of this workflow, or before images recorded their code; {rebuild}"
        )
    name = built.get("image") or Path(image).stem
    now = fingerprint(checkout, name)
    changed = [part.format(name=name) for key, part in PARTS.items() if built.get(key) != now[key]]
    if not changed:
        return None
    return (
        f"{image} does not hold this checkout: {', '.join(changed)} changed since it was "
        f"built (image from commit {built.get('commit', 'unknown')}, checkout at "
        f"{now['commit']}); {rebuild}"
    )


def build_wheel(source: Path, out: Path) -> Path:
    """``pip wheel`` of the package at ``source`` (no dependencies: the locks pin them),
    with the setuptools of the Python running this (no download at build time)."""
    try:
        setuptools = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        setuptools = 0
    if setuptools < MIN_SETUPTOOLS:
        raise SystemExit(
            f"building the alarm wheel needs setuptools>={MIN_SETUPTOOLS} (pyproject's license "
            f"field) in the Python running Snakemake, {sys.executable}: "
            f"pip install 'setuptools>={MIN_SETUPTOOLS}'"
        )
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--disable-pip-version-check", "-q", str(source.resolve()),
         "-w", str(out)],
        check=True,
    )  # fmt: skip
    (wheel,) = out.glob("*.whl")
    return wheel


def _stage(checkout: Path, files: Iterable[str], context: Path) -> None:
    for f in files:
        (context / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(checkout / f, context / f)


def build_environment(environ: dict[str, str]) -> dict[str, str]:
    """Apptainer's layer cache and build sandbox under ``$ALARM_SCRATCH`` unless set: the
    CUDA images need tens of GB, more than a login node's /tmp or a home quota holds."""
    env = dict(environ)
    scratch = env.get("ALARM_SCRATCH")
    for variable, folder in (("APPTAINER_CACHEDIR", "cache"), ("APPTAINER_TMPDIR", "tmp")):
        if scratch and not env.get(variable):
            path = Path(scratch) / "apptainer" / folder
            path.mkdir(parents=True, exist_ok=True)
            env[variable] = str(path)
    return env


def build(name: str, checkout: Path, image: Path, apptainer: str = "apptainer") -> dict:
    """Build ``image`` from ``containers/{name}.def``; write its record beside it.

    The build context is a copy of exactly the checkout files the image holds (hashed as
    copied), the wheel built from that copy, and the record as ``image.json``."""
    image = image.resolve()
    definition = PARTS["definition"].format(name=name)
    lock = PARTS["lock"].format(name=name)
    code = checkout_files(checkout, _code_paths(checkout, name))
    with tempfile.TemporaryDirectory(prefix=f"alarm-image-{name}.") as tmp:
        context = Path(tmp)
        _stage(checkout, [definition, lock, *code], context)
        package = context / "package"
        _stage(context, [f for f in code if f.startswith(PACKAGE)], package)
        shutil.copy2(checkout / "README.md", package / "README.md")  # the wheel's description
        build_wheel(package, context / "wheel")
        record = fingerprint(context, name, code) | {"commit": commit(checkout)}
        text = (context / definition).read_text()
        base, _ = base_of(text)
        if not DIGEST.search(base):
            # Built from the digest the tag has now (the record says which); the copy in
            # the build context changes, not the checkout's, so the fingerprint holds.
            text = pinned(text, registry_digest(base))
            (context / definition).write_text(text)
            print(
                f"Warning: {definition} names its base by tag ({base}); built from "
                f"{base_of(text)[0]}: pin it for every site with "
                f"`python -m alarm.images pin {name}` and commit the definition",
                file=sys.stderr,
            )
        record["base"], record["base_tag"] = base_of(text)
        (context / "image.json").write_text(json.dumps(record, indent=2) + "\n")
        image.parent.mkdir(parents=True, exist_ok=True)
        # Unprivileged builds map root in a user namespace (where the site's Apptainer
        # allows it; it otherwise says so).
        fakeroot = ["--fakeroot"] if os.geteuid() != 0 else []
        subprocess.run(
            [apptainer, "build", *fakeroot, "--force", str(image), definition],
            cwd=context,
            env=build_environment(dict(os.environ)),
            check=True,
        )
    # Beside the image only (the image cannot hold its own hash): a copy can be checked.
    record["sif_sha256"] = sha256(image)
    record_path(image).write_text(json.dumps(record, indent=2) + "\n")
    return record


def copy_problem(image: str) -> str | None:
    """Whether ``image`` is the file its record (``.sif.json``) was written for: an image
    built elsewhere and copied here is checked whole before the first job uses it."""
    try:
        expected = json.loads(record_path(image).read_text()).get("sif_sha256")
    except (OSError, ValueError):
        return f"{image}: its build record {record_path(image)} is missing or unreadable"
    if expected is None:
        return None
    if not Path(image).is_file() or sha256(Path(image)) != expected:
        return (
            f"{image} is not the image its record describes (sha256 {expected[:12]}...): a "
            "partial or altered copy; copy the .sif and its .sif.json again"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alarm.images", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build containers/NAME.sif and its record")
    b.add_argument("name", help="the image: data, train or vllm")
    b.add_argument("--checkout", type=Path, default=Path("."), help="the repository root")
    b.add_argument("--image", type=Path, help="default: containers/NAME.sif")
    c = sub.add_parser(
        "check",
        help="say whether images (built here, or elsewhere and copied with their .sif.json) "
        "are whole and still match the checkout",
    )
    c.add_argument("images", nargs="+")
    c.add_argument("--checkout", type=Path, default=Path("."))
    p = sub.add_parser(
        "pin",
        help="write into containers/NAME.def the digest its base's tag has now (every "
        "site then builds the same base); commit the result",
    )
    p.add_argument("names", nargs="+", help="data, train, vllm")
    p.add_argument("--checkout", type=Path, default=Path("."))
    ns = parser.parse_args(argv)
    if ns.command == "build":
        record = build(ns.name, ns.checkout, ns.image or Path(f"containers/{ns.name}.sif"))
        print(json.dumps(record, indent=2))
        return 0
    if ns.command == "pin":
        print("\n".join(pin(name, ns.checkout) for name in ns.names))
        return 0
    problems = [
        p for image in ns.images for p in (copy_problem(image), problem(image, ns.checkout)) if p
    ]
    print("\n".join(problems or ["every image matches the checkout"]))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
