#!/usr/bin/env python3
"""TEST DOUBLE for the `apptainer` binary: Apptainer cannot be installed on the CI machines.

The workflow tests install this file as `apptainer` first on PATH (see `install`). It is
meant to be at least as strict as Apptainer wherever the workflow could go wrong: a job
sees only what its image and its binds would show it, so code missing from an image, a
path left unbound or a variable the image does not set fail here as on the cluster.

`apptainer --version`
    answers as Snakemake's check expects.

`apptainer build [--force] IMAGE DEFINITION` (run in the build context, as
`alarm.images.build` does) makes the image's root, IMAGE.root/, from the definition:
  - each `%files` source (relative to the build context) copied to its destination,
    which must lie under /opt;
  - a venv at /opt/venv, standing in for what `%post` installs from the lock: a .pth
    line makes the site-packages of the Python running this file (the test
    environment, mounted read-only) importable from it;
  - every wheel that `%files` copied, installed into that venv with --no-deps, as the
    definitions' `%post` does. An image whose definition copies no wheel has no `alarm`.
A base named with both a tag and a digest is refused, as Apptainer's containers/image
does. `%post`, `%test` and the base image are NOT used. IMAGE itself is a small JSON file (the
definition's text, the root), so that Snakemake sees a real file.

`apptainer exec [--home DIR] [--bind SRC[:DST[:ro]]]... [--env K=V]... [--pwd DIR]
[--nv] IMAGE COMMAND...`
    runs COMMAND under bubblewrap (Debian's `bwrap`) with only: /usr, /etc, /sys and the
    test Python's installation read-only; the image's /opt read-only; a private /tmp;
    /proc and /dev; the --home directory and each --bind. The environment is cleared:
    the command gets PATH=Apptainer's default, HOME, APPTAINER_CONTAINER/_NAME, the
    per-job thread counts Snakemake sets, then the image's `%environment`, then each
    --env. (By default Apptainer passes the rest of the host environment through, and
    binds the host's /tmp and home: this double does not.) Before the command, the same
    sandbox says which `alarm` it would run and where `import alarm` comes from; that
    and the call (image, flags, binds, --env, working directory, command) are recorded
    as one JSON line in $FAKE_APPTAINER_LOG. A missing image, or a bind whose source
    does not exist, fails as in Apptainer.

What it cannot check: the image's OS and packages (the host's /usr and the test
environment stand in for the CUDA base and envs/{name}.txt), `%post` and `%test` (test
them by parsing the definition), and the GPUs (`--nv` is recorded and otherwise ignored).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

WITH_VALUE = {"--home", "-H", "--bind", "-B", "--pwd", "--env", "--env-file", "--overlay"}
BUILD_WITH_VALUE = {"--build-arg", "--build-arg-file", "--section", "--library"}
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ENV_SCRIPT = "/.singularity.d/env/90-environment.sh"
# What Snakemake sets for each job (snakemake/shell.py); Apptainer would pass it through.
JOB_VARIABLES = ("OMP_NUM_THREADS", "GOTO_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")  # fmt: skip
PROBE = (
    'printf "%s\\n" "$(command -v alarm || echo none)"; '
    'python -c "import alarm; print(alarm.__file__)" 2>&1 | tail -n 1'
)


def install(bin_dir: Path) -> Path:
    """Put this double in ``bin_dir`` as `apptainer`, run by the Python running the tests."""
    target = bin_dir / "apptainer"
    code = Path(__file__).read_text().split("\n", 1)[1]
    target.write_text(f"#!{sys.executable}\n{code}")
    target.chmod(0o755)
    return target


def record(entry: dict) -> None:
    with open(os.environ["FAKE_APPTAINER_LOG"], "a") as log:
        log.write(json.dumps(entry) + "\n")


def fatal(message: str) -> int:
    print(f"FATAL:   {message}", file=sys.stderr)
    return 255


def sections(definition: str) -> dict[str, list[str]]:
    """A definition's sections (`%files`, `%environment`, ...) as lists of lines."""
    out: dict[str, list[str]] = {}
    current = None
    for line in definition.splitlines():
        if line.startswith("%"):
            current = out.setdefault(line.split()[0][1:], [])
        elif current is not None:
            current.append(line)
    return out


def system_binds() -> list[str]:
    """The host's system directories, read-only: the stand-in for the image's OS."""
    args = []
    for d in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    args += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--ro-bind", "/sys", "/sys"]
    prefix = os.path.realpath(sys.base_prefix)  # the interpreter (the image's /opt/uv-python)
    if not prefix.startswith("/usr"):
        args += ["--ro-bind", prefix, prefix]
    return [*args, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm", "--tmpfs", "/tmp"]


def python_executable() -> str:
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def build(args: list[str]) -> int:
    positional, force = [], False
    while args:
        arg = args.pop(0)
        if arg in BUILD_WITH_VALUE:
            args.pop(0)
        elif arg in ("--force", "-F"):
            force = True
        elif not arg.startswith("-"):
            positional.append(arg)
    image, definition = (Path(p) for p in positional[:2])
    if image.exists() and not force:
        return fatal(f"build target '{image}' already exists. Use --force to overwrite it")
    text = definition.read_text()
    base = next(
        (ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("From:")), ""
    )
    name, _, digest = base.partition("@")
    if digest and ":" in name.rsplit("/", 1)[-1]:  # containers/image refuses both
        return fatal(
            f"{base}: Docker references with both a tag and digest are currently not supported"
        )
    parts = sections(text)
    root = Path(f"{image}.root").resolve()
    shutil.rmtree(root, ignore_errors=True)
    (root / "opt").mkdir(parents=True)
    for line in parts.get("files", []):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        source, destination = Path(words[0]), words[-1]
        if not destination.startswith("/opt/"):
            return fatal(f"the test double copies %files under /opt only, not {destination}")
        target = root / destination.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        elif source.is_file():
            shutil.copy2(source, target)
        else:
            return fatal(f"while copying %files: {source} does not exist")
    env_dir = root / ENV_SCRIPT.lstrip("/")
    env_dir.parent.mkdir(parents=True)
    env_dir.write_text("\n".join(parts.get("environment", [])) + "\n")
    # The stand-in for %post: a venv seeing the test environment, plus the copied wheels.
    site_packages = sysconfig.get_paths()["purelib"]
    wheels = sorted("/" + str(w.relative_to(root)) for w in (root / "opt").rglob("*.whl"))
    pth = "/opt/venv/lib/python{}.{}/site-packages/_test_environment.pth".format(
        *sys.version_info[:2]
    )
    steps = [
        f"{shlex.quote(python_executable())} -m venv --without-pip /opt/venv",
        f"echo {shlex.quote(site_packages)} > {pth}",
    ]
    if wheels:
        steps.append(
            "/opt/venv/bin/python -m pip install --isolated --no-deps --no-index "
            "--ignore-installed --no-cache-dir --disable-pip-version-check -q "
            + " ".join(map(shlex.quote, wheels))
        )
    sandbox = [
        "bwrap", "--die-with-parent", *system_binds(), "--bind", str(root / "opt"), "/opt",
        "--ro-bind", site_packages, site_packages, "--clearenv", "--setenv", "HOME", "/tmp",
        "--setenv", "PATH", DEFAULT_PATH, "/bin/sh", "-ec", "; ".join(steps),
    ]  # fmt: skip
    made = subprocess.run(sandbox)
    if made.returncode != 0:
        return fatal(f"the image's venv could not be made (exit {made.returncode})")
    image.write_text(
        json.dumps(
            {
                "fake_apptainer_image": True,
                "definition": text,
                "root": str(root),
                "site_packages": site_packages,
            }
        )
    )
    record({"call": "build", "image": str(image.resolve()), "definition": str(definition),
            "wheels": wheels})  # fmt: skip
    return 0


def parse_exec(args: list[str]) -> tuple[dict[str, list[str]], list[str], list[str]]:
    options: dict[str, list[str]] = {}
    flags = []
    while args and args[0].startswith("-"):
        option = args.pop(0)
        if "=" in option and option.split("=", 1)[0] in WITH_VALUE:
            option, value = option.split("=", 1)
            options.setdefault(option, []).append(value)
        elif option in WITH_VALUE:
            options.setdefault(option, []).append(args.pop(0))
        else:
            flags.append(option)
    return options, flags, args


def exec_(args: list[str]) -> int:
    options, flags, rest = parse_exec(args)
    image, inner = rest[0], rest[1:]
    if not Path(image).is_file():
        return fatal(f"could not open image {image}: failed to retrieve path for {image}")
    spec = json.loads(Path(image).read_text())
    home = os.path.abspath((options.get("--home") or options.get("-H") or [os.getcwd()])[0])
    home = home.split(":")[0]
    mounts = ["--bind", home, home]
    binds = []
    for value in options.get("--bind", []) + options.get("-B", []):
        for item in value.split(","):
            source, _, rest_ = item.partition(":")
            destination, _, mode = rest_.partition(":")
            binds.append(item)
            if not os.path.exists(source):
                return fatal(f"container creation failed: mount {source}: no such file")
            kind = "--ro-bind" if mode == "ro" else "--bind"
            mounts += [kind, os.path.abspath(source), destination or os.path.abspath(source)]
    cwd = os.path.abspath((options.get("--pwd") or [os.getcwd()])[0])
    visible = [home, *(m for m in mounts[2::3])]
    if not any(cwd == v or cwd.startswith(v.rstrip("/") + "/") for v in visible):
        cwd = home  # as Apptainer does when the working directory is not in the container
    environment = ["--clearenv", "--setenv", "PATH", DEFAULT_PATH, "--setenv", "HOME", home,
                   "--setenv", "APPTAINER_CONTAINER", os.path.abspath(image),
                   "--setenv", "APPTAINER_NAME", Path(image).name]  # fmt: skip
    for name in JOB_VARIABLES:
        if name in os.environ:
            environment += ["--setenv", name, os.environ[name]]
    given = [a.partition("=") for a in options.get("--env", [])]
    exports = "".join(f"export {k}={shlex.quote(v)}; " for k, _, v in given)
    root = Path(spec["root"])
    sandbox = [
        "bwrap", "--die-with-parent", *system_binds(),
        "--ro-bind", str(root / "opt"), "/opt",
        "--ro-bind", str(root / ".singularity.d"), "/.singularity.d",
        "--ro-bind", spec["site_packages"], spec["site_packages"],
        *mounts, "--chdir", cwd, *environment,
    ]  # fmt: skip

    def run_in_image(script: str, *argv: str, **kwargs) -> subprocess.CompletedProcess:
        prelude = f". {ENV_SCRIPT}; {exports}"
        return subprocess.run([*sandbox, "/bin/sh", "-c", prelude + script, "sh", *argv],
                              **kwargs)  # fmt: skip

    probe = run_in_image(PROBE, capture_output=True, text=True).stdout.splitlines()
    record(
        {
            "call": "exec",
            "image": image,
            "flags": flags,
            "binds": binds,
            "env": options.get("--env", []),
            "cwd": cwd,
            "command": inner,
            "alarm_command": probe[0] if probe else None,
            "alarm_module": probe[1] if len(probe) > 1 else None,
        }
    )
    return run_in_image('exec "$@"', *inner).returncode


def main(argv: list[str]) -> int:
    if argv[:1] == ["--version"]:
        print("apptainer version 1.3.6")
        return 0
    while argv and argv[0] in ("--quiet", "--silent", "-q", "-s"):
        argv = argv[1:]
    command, args = argv[0], argv[1:]
    if shutil.which("bwrap") is None:
        return fatal("the test double needs bubblewrap (apt-get install bubblewrap; `make`)")
    if command == "build":
        return build(args)
    if command == "exec":
        return exec_(args)
    print(f"fake apptainer: unsupported command {command}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
