"""The ``alarm`` command: one subcommand per stage of :mod:`alarm.registry`, and the
tools that watch a run (``progress``, ``dashboard``), which are no stage.

Every stage runs without Snakemake too: give it its paths and either the
``--settings``/``--knobs`` JSON a rule passes, or ``--configfile`` (the command
then picks the same settings out of the configuration); with neither, the
default ``config/config.yaml`` is used, as by the Snakefile.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from alarm import dashboard, progress
from alarm.config import ConfigError
from alarm.data.sources.download import CredentialError
from alarm.fetch import FetchError
from alarm.imports import skip_scikit_learn_in_transformers
from alarm.registry import KEY_HELP, STAGES, Job, resolve

log = logging.getLogger("alarm")
# Every job, and the processes vLLM spawns from it (which import this module again), start
# without the scikit-learn import transformers would make (alarm.imports).
skip_scikit_learn_in_transformers()


# Tools that read a run rather than make a part of it; each also runs on the login node
# with the host environment (`PYTHONPATH=scripts .venv/bin/python -m alarm.<tool>`).
TOOLS = {"progress": progress, "dashboard": dashboard}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alarm",
        description="ALARM workflow stages (see README.md). Each subcommand is one rule's action.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="<command>")
    for stage in STAGES.values():
        p = sub.add_parser(stage.command, help=stage.help, description=stage.help)
        for key in stage.keys:
            p.add_argument(f"--{key}", required=True, help=KEY_HELP[key])
        for a in stage.args:
            p.add_argument(*a.flags, **a.options)
        p.add_argument(
            "--threads",
            type=int,
            help="CPU threads of torch and OpenMP (rules pass their job's threads; default: "
            "the config's resources.<family>.threads for the stage's family, else 1)",
        )
        if stage.settings is not None or stage.knobs is not None or stage.family is not None:
            p.add_argument("--configfile", nargs="+", help="config YAML file(s), merged")
            p.add_argument("--settings", help="the stage's settings as JSON (rules pass this)")
            p.add_argument("--knobs", help="the stage's run knobs as JSON (rules pass this)")
        p.set_defaults(stage=stage)
    for name, tool in TOOLS.items():
        p = sub.add_parser(name, help=tool.__doc__.split("\n\n")[0].split(": ", 1)[1])
        tool.add_arguments(p)
        p.set_defaults(tool=tool)
    return parser


# What OpenMP, MKL and OpenBLAS read at start: set before torch is imported, they reach
# this process's torch and every process it starts (accelerate's, vLLM's workers).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def use_threads(n: int) -> None:
    """Compute with ``n`` CPU threads. A float reduction's order follows the thread count,
    so a stage gives the same bits by hand as in its rule only with the rule's threads."""
    if n < 1:
        raise ConfigError(f"--threads must be at least 1, got {n}")
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def main(argv: list[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if ns.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if "tool" in ns:
        return ns.tool.run(ns)
    try:
        invocation = resolve(ns.stage, ns)
        use_threads(invocation.threads)
        job = Job(ns.stage, ns, invocation.settings, invocation.knobs)
        return ns.stage.run(job) or 0
    except (ConfigError, ValueError, FileNotFoundError, FetchError, CredentialError) as err:
        # Bad input (a key, a dataset, a file, a download that failed its checksum, a missing
        # credential): one line naming it; -v adds the traceback.
        log.debug("traceback", exc_info=True)
        log.error("%s", err if not isinstance(err, FileNotFoundError) else f"no such file: {err}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
