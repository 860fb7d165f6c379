#!/usr/bin/env python3
"""TEST DOUBLE for the `apptainer` binary (Apptainer cannot run on the CI machines).

The cluster test installs this file as `apptainer` first on PATH. It answers
`--version` as Snakemake's check expects; for `build` it writes the image file
(the definition's text) so images stay real DAG targets; for `exec` it records
the call (image, binds, --nv, --env, working directory, command) as one JSON line
in $FAKE_APPTAINER_LOG and runs the inner command on the host, with the --env
variables set, as the container would. It refuses a missing image like Apptainer.
"""

import json
import os
import sys
from pathlib import Path

WITH_VALUE = {"--home", "--bind", "-B", "--pwd", "--env", "--env-file", "--overlay", "-H"}


def record(entry: dict) -> None:
    with open(os.environ["FAKE_APPTAINER_LOG"], "a") as log:
        log.write(json.dumps(entry) + "\n")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--version"]:
        print("apptainer version 1.3.6")
        return 0
    while argv and argv[0] in ("--quiet", "--silent", "-q", "-s"):
        argv = argv[1:]
    command, args = argv[0], argv[1:]
    if command == "build":
        image, definition = [a for a in args if not a.startswith("-")][:2]
        Path(image).write_text(Path(definition).read_text())
        record({"call": "build", "image": image, "definition": definition})
        return 0
    if command != "exec":
        print(f"fake apptainer: unsupported command {command}", file=sys.stderr)
        return 2
    options: dict[str, list[str]] = {}
    flags = []
    while args and args[0].startswith("-"):
        option = args.pop(0)
        if option in WITH_VALUE:
            options.setdefault(option, []).append(args.pop(0))
        else:
            flags.append(option)
    image, inner = args[0], args[1:]
    if not Path(image).is_file():
        print(f"FATAL:   could not open image {image}: no such file", file=sys.stderr)
        return 255
    env = dict(os.environ)
    for assignment in options.get("--env", []):
        key, _, value = assignment.partition("=")
        env[key] = value
    record(
        {
            "call": "exec",
            "image": image,
            "flags": flags,
            "binds": options.get("--bind", []) + options.get("-B", []),
            "env": options.get("--env", []),
            "cwd": os.getcwd(),
            "command": inner,
        }
    )
    os.chdir(options.get("--pwd", [os.getcwd()])[0])
    os.execvpe(inner[0], inner, env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
