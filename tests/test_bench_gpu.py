"""bench/gpu: the wheels carried in parts, and the whole GPU benchmark at toy size on the CPU."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench" / "gpu"))

import wheels  # noqa: E402


def _carry(tmp_path, size=2500, part_bytes=1000):
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    wheel.write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
    parts = tmp_path / "parts"
    parts.mkdir()
    manifest = {"wheels": [wheels.split(wheel, parts, part_bytes)]}
    (parts / wheels.MANIFEST).write_text(json.dumps(manifest))
    return wheel, parts, manifest


def test_a_wheel_split_into_parts_joins_to_the_same_bytes(tmp_path):
    wheel, parts, manifest = _carry(tmp_path)
    assert [p["file"] for p in manifest["wheels"][0]["parts"]] == [
        f"{wheel.name}.part000",
        f"{wheel.name}.part001",
        f"{wheel.name}.part002",
    ]
    assert max(p.stat().st_size for p in parts.glob("*.part*")) == 1000
    (joined,) = wheels.join(parts, tmp_path / "house")
    assert joined.read_bytes() == wheel.read_bytes()


def test_a_missing_or_corrupt_part_is_named_and_nothing_is_joined(tmp_path):
    wheel, parts, _ = _carry(tmp_path)
    second = parts / f"{wheel.name}.part001"
    data = second.read_bytes()
    second.write_bytes(data[:-1] + b"?")
    with pytest.raises(wheels.PartsError, match=rf"{second.name} is corrupt"):
        wheels.join(parts, tmp_path / "house")
    second.unlink()
    with pytest.raises(wheels.PartsError, match=rf"{second.name} is missing"):
        wheels.join(parts, tmp_path / "house")
    assert not (tmp_path / "house" / wheel.name).exists()


def test_a_manifest_that_lies_about_the_whole_wheel_leaves_no_wheel(tmp_path):
    wheel, parts, manifest = _carry(tmp_path)
    manifest["wheels"][0]["sha256"] = "0" * 64
    (parts / wheels.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(wheels.PartsError, match="wrong sha256"):
        wheels.join(parts, tmp_path / "house")
    assert not (tmp_path / "house" / wheel.name).exists()


def test_the_carried_set_is_the_vllm_lock_less_torch_and_what_the_machine_has(tmp_path):
    entries = wheels.lock_entries(REPO / "envs" / "vllm.txt")
    assert entries["vllm"].startswith("vllm==0.23.0 \\\n    --hash=sha256:")
    assert all(line.strip().startswith("--hash=") for line in entries["vllm"].splitlines()[1:])
    everything = wheels.missing(entries, set())
    assert "vllm" in everything and "transformers" in everything
    assert not {"torch", "triton", "nvidia-cublas"} & set(everything)  # torch brings them
    freeze = tmp_path / "freeze.txt"
    freeze.write_text("vllm==0.23.0\nNumPy==1.0.0\ntorch==2.11.0\n")
    left = wheels.missing(entries, wheels.installed(freeze))
    assert "vllm" not in left and "numpy" in left  # numpy there, at another version
    assert len(left) == len(everything) - 1


@pytest.mark.slow
def test_the_gpu_benchmark_runs_at_toy_size_on_the_cpu(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "bench/gpu/bench_gpu.py", "--scale", "toy", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    failed = [r for r in results["training"] + results["generation"] if "error" in r]
    assert not failed, failed
    assert results["environment"]["device"] == "cpu"
    assert set(results["networks"]) == {"rlm", "whisper", "w2vbert", "muq", "sslam"}
    for r in results["training"]:
        assert r["samples_per_second"] > 0 and r["tflop_per_example"] > 0
        assert r["mfu"] is None  # no peak figure for a CPU
    assert {r["model"] for r in results["training"]} == {"alarm_ca", "al_whisper_r"}
    by_part = {(r["backend"], r["prompts"]): r for r in results["generation"]}
    assert set(by_part) == {(b, p) for b in ("vllm", "transformers") for p in ("ids", "embeds")}
    for r in by_part.values():
        assert r["tokens"] > 0 and r["tokens_per_second"] > 0
    # Random weights do not close their thinking within the toy budget: two passes each.
    assert by_part["vllm", "embeds"]["two_pass"] == by_part["vllm", "embeds"]["requests"]
    assert by_part["vllm", "ids"]["engine"]["dtype"] == "float32"  # vllm-cpu.yaml's engine
    assert "vLLM over transformers, ids" in done.stdout
    projected = results["projection"]["gpu_hours"]
    assert set(projected) == {"train alarm_ca", "train al_whisper_r", "generate_r0"}
    assert all(hours > 0 for hours in projected.values())
