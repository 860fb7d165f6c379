"""What a job's start-up imports, and what it need not.

transformers imports scikit-learn, with SciPy's statistics and pandas behind it, as soon as
any model class loads: its assisted-generation helper (``generation/candidate_generator``)
wants one function of it, and its GLUE metrics another. Neither is used here, and the
import is a quarter of a stage's start on a CPU (2 to 3 s of the 8 to 10 s every `alarm`
job spends importing). ``skip_scikit_learn_in_transformers`` makes transformers believe
scikit-learn is absent, for the jobs the `alarm` CLI runs; scikit-learn itself stays
importable (librosa, which MuQ loads, needs it).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys

FLAG_MODULE = "transformers.utils.import_utils"


class _ScikitLearnHidden(importlib.abc.MetaPathFinder):
    """Finds ``transformers.utils.import_utils`` as usual and, once it has run, clears its
    scikit-learn flag (read by ``transformers.is_sklearn_available()``)."""

    def find_spec(self, name, path, target=None):
        if name != FLAG_MODULE:
            return None
        sys.meta_path.remove(self)  # the real finders find it
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            module._sklearn_available = False

        spec.loader.exec_module = exec_module
        return spec


def skip_scikit_learn_in_transformers() -> None:
    """Before transformers is imported: hide scikit-learn from it (see the module)."""
    if FLAG_MODULE in sys.modules:
        sys.modules[FLAG_MODULE]._sklearn_available = False
    elif not any(isinstance(f, _ScikitLearnHidden) for f in sys.meta_path):
        sys.meta_path.insert(0, _ScikitLearnHidden())
