"""Wheels for a bare GPU machine, carried in parts: each call to it carries at most 64 MiB.

    python bench/gpu/wheels.py pack DIR [--have FREEZE] [--python-version 3.12]
    python bench/gpu/wheels.py unpack DIR --into WHEELHOUSE

``pack`` (here, with PyPI) downloads the pinned wheels of the vllm image's lock that a
machine with torch already installed lacks: every pin of the lock outside torch's own
requirements (as this environment's torch declares them), less those FREEZE (``pip freeze``
taken on the GPU machine: one short first call) shows at the same version. Without FREEZE
that is over 200 wheels and several GB: take the freeze first. pip checks each wheel
against the lock's hashes. Each wheel is cut into parts of under 60 MiB, listed with their sha256 in
DIR/manifest.json. Carry DIR's parts over consecutive calls (a warm machine keeps them).

``unpack`` (there) joins the parts, checks each part's and each wheel's sha256 and writes
the wheels into WHEELHOUSE; a missing or corrupt part is named and nothing is installed.
``bench_gpu.py --wheels DIR`` unpacks and installs them with pip, offline.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PART_BYTES = 60 * 2**20 - 1  # under 60 MiB
MANIFEST = "manifest.json"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)")  # a lock's or a pip freeze's name==version


class PartsError(RuntimeError):
    pass


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def split(wheel: Path, into: Path, part_bytes: int = PART_BYTES) -> dict:
    """Cut ``wheel`` into ``into/<name>.partNNN``; its manifest entry."""
    parts = []
    with wheel.open("rb") as f:
        for n, block in enumerate(iter(lambda: f.read(part_bytes), b"")):
            part = into / f"{wheel.name}.part{n:03d}"
            part.write_bytes(block)
            parts.append({"file": part.name, "sha256": hashlib.sha256(block).hexdigest()})
    return {"wheel": wheel.name, "sha256": sha256(wheel), "parts": parts}


def join(parts_dir: Path, into: Path) -> list[Path]:
    """The wheels of ``parts_dir``'s manifest, joined into ``into`` and checked."""
    manifest = json.loads((parts_dir / MANIFEST).read_text())
    into.mkdir(parents=True, exist_ok=True)
    wheels = []
    for entry in manifest["wheels"]:
        for part in entry["parts"]:
            path = parts_dir / part["file"]
            if not path.is_file():
                raise PartsError(f"{path} is missing: carry every part of {entry['wheel']}")
            if sha256(path) != part["sha256"]:
                raise PartsError(f"{path} is corrupt (sha256 differs from {MANIFEST})")
        wheel = into / entry["wheel"]
        with wheel.open("wb") as out:
            for part in entry["parts"]:
                out.write((parts_dir / part["file"]).read_bytes())
        if sha256(wheel) != entry["sha256"]:
            wheel.unlink()
            raise PartsError(f"{entry['wheel']} joined from its parts has the wrong sha256")
        wheels.append(wheel)
    return wheels


def lock_entries(lock: Path) -> dict[str, str]:
    """Normalised name -> its ``name==version`` and ``--hash`` lines, of a pip-compile lock."""
    entries, name = {}, None
    for line in lock.read_text().splitlines():
        pin = PIN.match(line)
        if pin:
            name = normalise(pin[1])
            entries[name] = line
        elif name and line.strip().startswith("--hash"):
            entries[name] += "\n" + line
        elif not line.startswith(" "):
            name = None
    return {k: v.rstrip(" \\") for k, v in entries.items()}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements_closure(root: str) -> set[str]:
    """``root`` and everything its installed distribution requires, recursively."""
    from packaging.requirements import Requirement

    seen, todo = set(), [root]
    while todo:
        name = normalise(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def installed(freeze: Path) -> set[str]:
    """``name==version`` of each line of a ``pip freeze``, names normalised."""
    pins = (PIN.match(line) for line in freeze.read_text().splitlines())
    return {f"{normalise(m[1])}=={m[2]}" for m in pins if m}


def missing(entries: dict[str, str], have: set[str]) -> list[str]:
    """The lock's pins outside torch's requirements that ``have`` lacks at their version."""
    return sorted(
        name
        for name in set(entries) - requirements_closure("torch")
        if f"{name}=={PIN.match(entries[name])[2]}" not in have
    )


def pack(into: Path, lock: Path, python_version: str | None, have: Path | None) -> dict:
    entries = lock_entries(lock)
    wanted = missing(entries, installed(have) if have else set())
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text("".join(entries[n] + "\n" for n in wanted))
        target = ["--python-version", python_version] if python_version else []
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
             "--only-binary=:all:", "--platform", "manylinux_2_28_x86_64", *target,
             "--dest", str(Path(tmp) / "wheels"), "-r", str(requirements)],
            check=True,
        )  # fmt: skip
        wheels = sorted((Path(tmp) / "wheels").glob("*.whl"))
        manifest = {"lock": str(lock.relative_to(REPO)), "wheels": [split(w, into) for w in wheels]}
    (into / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("dir", type=Path)
    p.add_argument("--lock", type=Path, default=REPO / "envs" / "vllm.txt")
    p.add_argument("--have", type=Path, help="pip freeze of the GPU machine")
    p.add_argument("--python-version", help="the GPU machine's, e.g. 3.12 (default: this one's)")
    u = sub.add_parser("unpack")
    u.add_argument("dir", type=Path)
    u.add_argument("--into", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "pack":
        manifest = pack(args.dir, args.lock.resolve(), args.python_version, args.have)
        parts = [p for w in manifest["wheels"] for p in w["parts"]]
        size = sum((args.dir / p["file"]).stat().st_size for p in parts)
        print(f"{len(manifest['wheels'])} wheels, {len(parts)} parts, {size / 2**20:.0f} MiB")
    else:
        for wheel in join(args.dir, args.into):
            print(wheel)


if __name__ == "__main__":
    main()
