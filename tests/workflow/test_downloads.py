"""Downloads lose no byte to a failed job: the paper config's Clotho download, served by a
local HTTP server, over two launches of Snakemake.

Snakemake deletes the output of a failed job (and the output of a job it reruns, before the
job starts), so a download keeps its bytes in a folder that no rule declares
(``<output>.download``), and the output is a link to it, made once the download is complete.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from workflow_helpers import REPO, planned_jobs, snakemake

pytestmark = pytest.mark.slow

CLOTHO = "results/corpus/sources/clotho"
AUDIO = "clotho_audio_development.7z"
CAPTIONS = "clotho_captions_development.csv"
METADATA = "clotho_metadata_development.csv"
ARCHIVES = (".tar.gz", ".zip")  # LibriMix's downloads that prepare unpacks


class FlakyServer(ThreadingHTTPServer):
    """Serves files with HTTP Range. A file marked to break sends its first ``break_at``
    bytes and drops the connection, then the server refuses (403) every request until
    ``next_launch()``: a network that fails once and stays down for this launch."""

    def __init__(self, files: dict[str, bytes]):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = files
        self.break_at: dict[str, int] = {}
        self.down = False
        self.served: dict[str, int] = dict.fromkeys(files, 0)
        self.ranges: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}?download=1"

    def next_launch(self) -> None:
        self.down = False


class _Handler(BaseHTTPRequestHandler):
    server: FlakyServer

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        name = self.path.lstrip("/").split("?")[0]
        srv = self.server
        with srv.lock:
            srv.ranges.append((name, self.headers.get("Range")))
            if srv.down or name not in srv.files:
                self.send_error(403 if srv.down else 404)
                return
            data = srv.files[name]
            start = 0
            wanted = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
            if wanted:
                start = int(wanted[1])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            stop = srv.break_at.pop(name, None)
            body = data[start:stop] if stop is not None else data[start:]
            self.wfile.write(body)
            srv.served[name] += len(body)
            if stop is not None:  # the connection drops midway; the network stays down
                srv.down = True
                self.close_connection = True


@pytest.fixture
def clotho_files(tmp_path):
    """A small Clotho (a real 7z holding one clip and 2 MB of noise, the two CSVs)."""
    src = tmp_path / "src"
    (src / "development").mkdir(parents=True)
    (src / "development" / "a.wav").write_bytes(b"RIFF" + os.urandom(64))
    (src / "development" / "noise.bin").write_bytes(os.urandom(2_000_000))
    archive = tmp_path / AUDIO
    subprocess.run(["7z", "a", "-mx0", str(archive), "development"], cwd=src, check=True,
                   capture_output=True)  # fmt: skip
    return {
        AUDIO: archive.read_bytes(),
        CAPTIONS: b"file_name,caption_1,caption_2,caption_3,caption_4,caption_5\na.wav,a,b,c,d,e\n",
        METADATA: b"file_name,keywords\na.wav,rain\n",
    }


@pytest.fixture
def server(clotho_files):
    srv = FlakyServer(clotho_files)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _launch(workdir, server, check=True, **source):
    overlay = workdir / "clotho.yaml"
    urls = [server.url(n) for n in (AUDIO, CAPTIONS, METADATA)]
    overlay.write_text(
        yaml.safe_dump(
            {
                "containers": {"build": False},
                "datasets": {"clotho": {"source": {"urls": urls, **source}}},
            }
        )
    )
    return snakemake("--cores", "1", CLOTHO, "--configfile", str(REPO / "config/paper.yaml"),
                     str(overlay), workdir=workdir, check=check)  # fmt: skip


def test_a_broken_transfer_costs_no_byte_twice(tmp_path, server, clotho_files):
    size = len(clotho_files[AUDIO])
    server.break_at[AUDIO] = size // 4
    first = _launch(tmp_path, server, check=False)
    assert first.returncode != 0
    staging = tmp_path / f"{CLOTHO}.download"
    assert not (tmp_path / CLOTHO).exists()
    assert (staging / f"{AUDIO}.part").stat().st_size == size // 4

    server.next_launch()
    _launch(tmp_path, server)
    assert (AUDIO, f"bytes={size // 4}-") in server.ranges  # the second launch continued
    assert server.served[AUDIO] == size  # every byte once
    out = tmp_path / CLOTHO
    assert (out / "development" / "a.wav").is_file() and out.readlink().name == staging.name
    assert (out / AUDIO).read_bytes() == clotho_files[AUDIO]

    # A config edit to the source (a checksum pinned) reruns the download, and Snakemake
    # deletes its output before the job: only the link, so no byte is fetched again.
    good = hashlib.sha256(clotho_files[CAPTIONS]).hexdigest()
    served = dict(server.served)
    third = _launch(tmp_path, server, sha256={CAPTIONS: good})
    assert planned_jobs(third.stdout + third.stderr) == [("download_corpus", {"dataset": "clotho"})]
    assert server.served == served
    assert (out / "development" / "a.wav").is_file() and out.is_symlink()


def test_an_archive_that_does_not_unpack_stays_for_the_next_launch(tmp_path, server):
    server.files[AUDIO] = b"7z\xbc\xaf\x27\x1c" + b"\0" * 4000  # a 7z signature, no archive
    assert _launch(tmp_path, server, check=False).returncode != 0
    kept = tmp_path / f"{CLOTHO}.download" / AUDIO
    assert kept.read_bytes() == server.files[AUDIO]
    served = dict(server.served)
    assert _launch(tmp_path, server, check=False).returncode != 0
    assert server.served == served  # nothing downloaded again: only the unpack was retried
    assert kept.is_file()


def test_a_wrong_checksum_is_one_line_naming_the_file(tmp_path, server, clotho_files):
    good = hashlib.sha256(clotho_files[METADATA]).hexdigest()
    result = _launch(tmp_path, server, check=False, sha256={CAPTIONS: "0" * 64, METADATA: good})
    assert result.returncode != 0
    log = (tmp_path / "logs/download_corpus/clotho.log").read_text()
    errors = [line for line in log.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "Traceback" not in log, log
    assert f"{CLOTHO}.download/{CAPTIONS} (from {server.url(CAPTIONS)}) has sha256" in errors[0]
    assert "not the pinned 0000" in errors[0]
    assert not (tmp_path / f"{CLOTHO}.download" / f"{CAPTIONS}.part").exists()


def test_librimix_is_generated_by_the_workflow(tmp_path, monkeypatch):
    """No manual step: the download unpacks LibriSpeech and WHAM, generate_corpus runs
    LibriMix's script (here its test double, pinned like the real one) on a compute node's
    CPU, and collect reads the mixtures."""
    monkeypatch.syspath_prepend(str(REPO / "tests" / "data" / "sources"))
    import test_librimix  # its few-utterance LibriSpeech, WHAM and metadata

    from alarm.data.sources import librimix

    remote = test_librimix._source(tmp_path)  # tmp_path/librimix: what the URLs serve
    names = sorted(p.name for p in remote.iterdir())
    sha256 = {n: hashlib.sha256((remote / n).read_bytes()).hexdigest() for n in names}
    overlay = tmp_path / "librimix.yaml"
    overlay.write_text(
        yaml.safe_dump(
            {
                "containers": {"build": False},
                "datasets": {
                    "librimix": {
                        "n_shards": 1,
                        "source": {
                            "urls": [f"file://{remote / n}" for n in names if n.endswith(ARCHIVES)],
                            "files": [f"file://{remote / n}" for n in names
                                      if not n.endswith(ARCHIVES)],
                            "sha256": sha256,
                        },
                    }
                },
            }
        )
    )  # fmt: skip
    raw = "results/corpus/raw/librimix/00000.parquet"
    work = tmp_path / "run"
    work.mkdir()
    snakemake("--cores", "2", raw, "--configfile", str(REPO / "config/paper.yaml"),
              str(overlay), workdir=work)  # fmt: skip
    generated = work / "results/corpus/generated/librimix"
    assert (generated / "LibriMix/Libri3Mix/wav16k/max/train-360/mix_clean").is_dir()
    assert (work / "logs/generate_corpus/librimix.log").read_text().count(librimix.SCRIPT) == 2
    ledger = yaml.safe_load((work / f"{raw}.ledger.json").read_text())
    assert ledger["rows_in"] == 4 and ledger["rows_out"] == 3  # one source lacks a transcript
