"""MELD train set (authors' meld.py): dialogue turns concatenated into clips of >= 20 s.

Download: ``MELD.Raw.tar.gz`` of declare-lab/MELD @9abc51ee. ``prepare`` unpacks it and
its ``MELD.Raw/train.tar.gz`` (``MELD.Raw/train_splits/dia<D>_utt<U>.mp4``), then, since
libsndfile cannot read MP4, decodes each utterance's audio with ffmpeg, downmixes and
resamples it to 16 kHz (the authors: torchcodec + torchaudio) into
``MELD.Raw/train_wav16k/dia<D>_utt<U>.wav``. Utterances that fail to decode are listed in
``MELD.Raw/train_wav16k/undecodable.txt``: like the authors' RuntimeError branch, such an
utterance closes the clip being built and is left out. Metadata: ``MELD.Raw/train_sent_emo.csv``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from alarm.data.audio import AudioError, encode_wav, load_mono
from alarm.data.items import SourceItem
from alarm.data.sources._multi_sound_common import (
    SAMPLING_RATE,
    Turn,
    read_csv,
    seconds_at_16k,
    turn_chunks,
    turn_item,
    unpack,
)

log = logging.getLogger(__name__)

MAX_SECONDS = 20
WAV_DIR = "train_wav16k"
UNDECODABLE = "undecodable.txt"


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    raw = Path(source_dir) / "MELD.Raw"
    if not (raw / "train_sent_emo.csv").exists():
        unpack(Path(source_dir) / "MELD.Raw.tar.gz", Path(source_dir))
    if not (raw / "train_splits").is_dir():
        unpack(raw / "train.tar.gz", raw)
    wav_dir = raw / WAV_DIR
    wav_dir.mkdir(exist_ok=True)
    names = sorted({_name(row) for row in read_csv(raw / "train_sent_emo.csv")})
    todo = [n for n in names if not (wav_dir / f"{n}.wav").exists()]
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        decoded = list(
            pool.map(lambda n: _extract(raw / "train_splits" / f"{n}.mp4", wav_dir), todo)
        )
    failed = [n for n, ok in zip(todo, decoded, strict=True) if not ok]
    (wav_dir / UNDECODABLE).write_text("".join(f"{n}\n" for n in failed))


def _name(row: dict[str, str]) -> str:
    return f"dia{row['Dialogue_ID']}_utt{row['Utterance_ID']}"


def decode_mp4(mp4: Path) -> bytes:
    """The audio stream of ``mp4`` as float WAV at its own rate and channels."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "audio.wav"
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-v",
                "error",
                "-i",
                str(mp4),
                "-vn",
                "-c:a",
                "pcm_f32le",
                str(wav),
            ],
            check=True,
            capture_output=True,
        )
        return wav.read_bytes()


def _extract(mp4: Path, wav_dir: Path) -> bool:
    try:
        mono = load_mono(decode_mp4(mp4), SAMPLING_RATE, str(mp4))
    except (subprocess.CalledProcessError, AudioError) as err:
        log.warning("meld: %s does not decode (%s); the authors skip it too", mp4, err)
        return False
    partial = wav_dir / f"{mp4.stem}.partial"
    partial.write_bytes(encode_wav(mono, SAMPLING_RATE))
    partial.replace(wav_dir / f"{mp4.stem}.wav")
    return True


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    raw = Path(source_dir) / "MELD.Raw"
    wav_dir = raw / WAV_DIR
    undecodable = set((wav_dir / UNDECODABLE).read_text().split())
    dialogues: dict[str, list[dict[str, str]]] = defaultdict(list)  # Dialogue_ID.unique() order
    for row in read_csv(raw / "train_sent_emo.csv"):
        if not row.get("Dialogue_ID") or not (row.get("Utterance_ID") or "").isdigit():
            log.warning("meld: row without Dialogue_ID/Utterance_ID skipped: %s", row)
            continue
        dialogues[row["Dialogue_ID"]].append(row)
    for dialogue_id, rows in dialogues.items():
        chunks: list[list[Turn]] = []
        run: list[Turn] = []
        for row in sorted(rows, key=lambda r: int(r["Utterance_ID"])):
            if _name(row) in undecodable:
                # The authors flush the clip so far and skip the broken utterance.
                chunks += turn_chunks(run, MAX_SECONDS)
                run = []
                continue
            run.append(_turn(row, wav_dir))
        chunks += turn_chunks(run, MAX_SECONDS)
        for wav_id, chunk in enumerate(chunks):
            yield turn_item(dialogue_id, wav_id, chunk)


def _turn(row: dict[str, str], wav_dir: Path) -> Turn:
    emotion, sentiment, text = row.get("Emotion"), row.get("Sentiment"), row.get("Utterance")
    wav = wav_dir / f"{_name(row)}.wav"
    return Turn(
        utterance_id=row["Utterance_ID"],
        speaker=row.get("Speaker") or "",
        label=f", emotion: {emotion}, sentiment: {sentiment}" if emotion and sentiment else None,
        # "\x92" is how the CSV spells an apostrophe.
        text=text.replace("\x92", "'").strip() if text else None,
        path=wav,
        seconds=seconds_at_16k(wav),
    )
