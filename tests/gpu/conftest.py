"""GPU smoke tests: skipped without a CUDA device, except in the cluster's smoke rule.

The rule gpu_smoke_test sets ALARM_REQUIRE_GPU=1: there a missing device (a job
without a GPU, or an image run without --nv) fails the smoke test instead of
skipping it.
"""

import os

import pytest
import torch


@pytest.fixture(autouse=True)
def cuda():
    if not torch.cuda.is_available():
        if os.environ.get("ALARM_REQUIRE_GPU") == "1":
            pytest.fail("no CUDA device is visible: did the job get a GPU, and apptainer --nv?")
        pytest.skip("needs a CUDA device")
    return torch.device("cuda")
