"""``alarm dashboard``: the panoptes server a run reports to, on the login node.

panoptes (``panoptes-ui``) shows each launch's jobs live in a browser; Snakemake sends
them through its logger plugin ``snakemake-logger-plugin-panoptes`` when the profile's
``logger:`` names it (config/profiles/*/config.yaml show the lines). The server listens
on 127.0.0.1 only: reach it from your machine through an SSH tunnel
(``ssh -N -L 5000:127.0.0.1:5000 <login node>``), never on a public address. Its
database is one SQLite file beside the run's other records, so it outlives the server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=5000, help="the local port (default 5000)")
    parser.add_argument(
        "--database",
        type=Path,
        default=Path(".snakemake") / "panoptes.db",
        help="the SQLite file of the runs it saw (default: .snakemake/panoptes.db)",
    )


def server_command(port: int) -> list[str]:
    """panoptes on the loopback address, from the environment running this command."""
    found = Path(sys.executable).with_name("panoptes")
    executable = str(found) if found.exists() else shutil.which("panoptes")
    if executable is None:
        raise FileNotFoundError("panoptes (install the CPU or host environment: make install)")
    return [executable, "--ip", "127.0.0.1", "--port", str(port)]


def run(ns: argparse.Namespace) -> int:
    database = ns.database.resolve()
    database.parent.mkdir(parents=True, exist_ok=True)
    command = server_command(ns.port)
    print(
        f"panoptes on http://127.0.0.1:{ns.port} (database {database}); from your machine: "
        f"ssh -N -L {ns.port}:127.0.0.1:{ns.port} <this host>, then open that address",
        file=sys.stderr,
    )
    env = os.environ | {"PANOPTES_DB_URL": f"sqlite:///{database}?check_same_thread=False"}
    os.execve(command[0], command, env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alarm dashboard", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
