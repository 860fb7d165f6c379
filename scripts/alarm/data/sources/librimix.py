"""LibriMix (authors' librimix.py): Libri2Mix and Libri3Mix train mixtures, mix_clean.

The mixtures are generated, not downloaded. Download: the two LibriSpeech tarballs,
``wham_noise.zip``, and (``files``) the 8 metadata CSVs and LibriMix's own generator,
``create_librimix_from_metadata.py``, at JorisCos/LibriMix@eac7cf0 (their sha256 pinned in
the source block). ``prepare`` unpacks the corpora and puts the metadata in
``metadata/Libri{2,3}Mix/`` with the authors' fix. ``generate`` (rule ``generate_corpus``,
a CPU job in the data image) runs that script over them as the authors do (16 kHz, mode
"max", 2 and 3 sources; mix_both and mix_single too, the script needs them) into its own
folder: ``LibriMix/Libri{n}Mix/wav16k/max/{train-100,train-360}/mix_clean/<mixture_ID>.wav``
and ``.../max/metadata/metrics_{train-100,train-360}_mix_clean.csv``. It then lists, for
each source utterance, its length and transcript (``utterances.tsv``) and keeps
LibriSpeech's speaker list, which ``items`` reads from that folder.
"""

from __future__ import annotations

import csv
import logging
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import soundfile as sf

from alarm.data.items import SourceItem
from alarm.data.sources._multi_sound_common import read_csv, speaker_ordinals, unpack

log = logging.getLogger(__name__)

SUBSETS = {"train-100": "train-clean-100", "train-360": "train-clean-360"}
N_SOURCES = (2, 3)
UTTERANCES = "utterances.tsv"
SPEAKERS = "LibriSpeech/SPEAKERS.TXT"
SCRIPT = "create_librimix_from_metadata.py"


class MixturesNotGenerated(RuntimeError):
    pass


def _mix_dir(source_dir: Path, n_src: int) -> Path:
    return source_dir / "LibriMix" / f"Libri{n_src}Mix" / "wav16k" / "max"


def _metrics(source_dir: Path, n_src: int, subset: str) -> Path:
    return _mix_dir(source_dir, n_src) / "metadata" / f"metrics_{subset}_mix_clean.csv"


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    source_dir = Path(source_dir)
    for subset in SUBSETS.values():
        if not (source_dir / "LibriSpeech" / subset).is_dir():
            unpack(source_dir / f"{subset}.tar.gz", source_dir)
    if not (source_dir / "wham_noise").is_dir():
        unpack(source_dir / "wham_noise.zip", source_dir)
    for n_src in N_SOURCES:
        _place_metadata(source_dir, n_src)


def generate(source_dir: Path, out: Path, source: dict[str, Any]) -> None:
    """LibriMix's generator over the downloaded inputs in ``source_dir``, into ``out``."""
    source_dir, out = Path(source_dir), Path(out)
    if out.exists():  # the script skips a subset whose folder exists, even a half-written one
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for n_src in N_SOURCES:
        command = [
            sys.executable, str(source_dir / SCRIPT),
            "--librispeech_dir", str(source_dir / "LibriSpeech"),
            "--wham_dir", str(source_dir / "wham_noise"),
            "--metadata_dir", str(source_dir / "metadata" / f"Libri{n_src}Mix"),
            "--librimix_outdir", str(out / "LibriMix"),
            "--n_src", str(n_src), "--freqs", "16k", "--modes", "max",
            "--types", "mix_clean", "mix_both", "mix_single",
        ]  # fmt: skip
        log.info("librimix: %s", " ".join(command))
        subprocess.run(command, check=True)
    describe(source_dir, out)


def describe(source_dir: Path, out: Path) -> None:
    """What ``items`` reads beside the mixtures: the speaker list and ``utterances.tsv``."""
    missing = [
        str(_metrics(out, n, s).relative_to(out))
        for n in N_SOURCES
        for s in SUBSETS
        if not _metrics(out, n, s).exists()
    ]
    if missing:
        raise MixturesNotGenerated(
            f"librimix: LibriMix's generator left no {', '.join(missing)} in {out}"
        )
    (out / SPEAKERS).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source_dir / SPEAKERS, out / SPEAKERS)
    _write_utterances(source_dir, out)


def _place_metadata(source_dir: Path, n_src: int) -> None:
    target = source_dir / "metadata" / f"Libri{n_src}Mix"
    target.mkdir(parents=True, exist_ok=True)
    for subset in SUBSETS.values():
        for suffix in ("", "_info"):
            name = f"libri{n_src}mix_{subset}{suffix}.csv"
            if (target / name).exists():
                continue
            rows = read_csv(source_dir / name)
            if subset == "train-clean-360" and not suffix:
                # The authors' fix: these rows name speed-perturbed WHAM files (``...spNN.wav``)
                # that the WHAM zip lacks. (They re-save with pandas, adding an index column
                # the script ignores.)
                for row in rows:
                    row["noise_path"] = re.sub(r"sp\d{2}\.wav$", ".wav", row["noise_path"])
            with open(target / name, "w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else [])
                writer.writeheader()
                writer.writerows(rows)


def _write_utterances(source_dir: Path, out: Path) -> None:
    """Length (frames, rate) and transcript of every source utterance of the mixtures."""
    utterances = sorted(
        {
            (subset, utt)
            for n in N_SOURCES
            for subset in SUBSETS
            for row in read_csv(_metrics(out, n, subset))
            for utt in row["mixture_ID"].split("_")
        }
    )
    transcripts: dict[Path, dict[str, str]] = {}
    lines = []
    for subset, utt in utterances:
        speaker, book, _ = utt.split("-")
        chapter = source_dir / "LibriSpeech" / SUBSETS[subset] / speaker / book
        trans = chapter / f"{speaker}-{book}.trans.txt"
        if trans not in transcripts:
            transcripts[trans] = _transcripts(trans)
        try:
            info = sf.info(str(chapter / f"{utt}.flac"))
        except (OSError, RuntimeError) as err:
            log.warning("librimix: %s: source unreadable (%s); its mixtures will drop", utt, err)
            continue
        if utt in transcripts[trans]:
            lines.append(f"{utt}\t{info.frames}\t{info.samplerate}\t{transcripts[trans][utt]}\n")
    partial = out / f"{UTTERANCES}.partial"
    partial.write_text("".join(lines), encoding="utf-8")
    partial.replace(out / UTTERANCES)


def _transcripts(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    texts = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        utt, _, text = line.partition(" ")
        texts[utt] = text.lower().strip()
    return texts


def _genders(path: Path) -> dict[str, str]:
    genders = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line[0] == ";":
            continue
        fields = line.split("|")
        if len(fields) > 1:
            genders[fields[0].strip()] = "Male" if fields[1].strip() == "M" else "Female"
    return genders


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    source_dir = Path(source_dir)
    genders = _genders(source_dir / SPEAKERS)
    utterances: dict[str, tuple[float, str]] = {}
    for line in (source_dir / UTTERANCES).read_text(encoding="utf-8").splitlines():
        utt, frames, rate, text = line.split("\t", 3)
        utterances[utt] = (int(frames) / int(rate), text)
    for n_src in N_SOURCES:
        for subset in SUBSETS:
            mix_dir = _mix_dir(source_dir, n_src) / subset / "mix_clean"
            for row in read_csv(_metrics(source_dir, n_src, subset)):
                yield _item(row, f"{subset}_mix_clean", mix_dir, utterances, genders)


def _item(
    row: dict[str, str],
    partition_id: str,
    mix_dir: Path,
    utterances: dict[str, tuple[float, str]],
    genders: dict[str, str],
) -> SourceItem:
    mixture_id = row["mixture_ID"]
    sources = mixture_id.split("_")
    speakers = [utt.split("-")[0] for utt in sources]
    order = speaker_ordinals(speakers)
    snrs: dict[str, float] = {}
    for speaker, snr in zip(speakers, list(row.values())[1:], strict=False):
        snrs.setdefault(speaker, round(float(snr), 3))  # the first occurrence, as the authors
    metadata: dict[str, Any] = {}
    for speaker, ordinal in order.items():
        metadata[f"the {ordinal} speaker's gender"] = genders.get(speaker)
        metadata[f"the {ordinal} speaker's mixture snr"] = snrs.get(speaker)
    metadata["the number of speakers"] = len(order)
    known = all(u in utterances for u in sources) and None not in metadata.values()
    return SourceItem(
        unique_id_1=partition_id,
        unique_id_2=mixture_id,
        load_audio=(mix_dir / f"{mixture_id}.wav").read_bytes,
        # Every source starts at 00:00; the clip's shown duration is the last source's.
        text=[utterances[u][1] for u in sources] if known else None,
        text_type="speech",
        metadata=metadata,
        segments=[
            (0, utterances.get(u, (0.0, ""))[0], f"the {order[s]} speaker")
            for u, s in zip(sources, speakers, strict=True)
        ],
    )
