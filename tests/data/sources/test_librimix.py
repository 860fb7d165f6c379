from pathlib import Path

import pytest
from builders import (
    collect_descriptions,
    drop_reasons,
    flac_bytes,
    wav_bytes,
    write_tar,
    write_zip,
)

from alarm.data.sources import librimix

SOURCE = {
    "type": "url",
    "urls": ["https://openslr.trmal.net/resources/12/train-clean-100.tar.gz"],
}
SPEAKERS = """; Some comment lines
;ID  |SEX| SUBSET           |MINUTES| NAME
19   | F | train-clean-100  | 25.19 | Kara Shallenberg
26   | M | train-clean-100  | 25.08 | Denny Sayers
100  | F | train-clean-360  | 25.03 | Barbara Wedge
1040 | M | train-clean-360  | 25.09 | John Garvin
"""
# (subset, utterance, seconds, transcript)
SOURCES = [
    ("train-clean-100", "19-198-0001", 2.6, "NORTHANGER ABBEY"),
    ("train-clean-100", "26-495-0003", 1.2, "THE SOUND OF THE BELL"),
    ("train-clean-100", "26-495-0004", 1.0, None),  # no transcript line
    ("train-clean-360", "100-121669-0001", 3.5, "TOM THE PIPER'S SON"),
    ("train-clean-360", "1040-133433-0002", 0.5, "HE SAID"),
]
MIX_HEADER = (
    "mixture_ID,source_1_path,source_1_gain,source_2_path,source_2_gain,noise_path,noise_gain"
)


def _source(tmp_path):
    root = tmp_path / "librimix"
    root.mkdir()
    for subset in ("train-clean-100", "train-clean-360"):
        files = {"LibriSpeech/SPEAKERS.TXT": SPEAKERS.encode()}
        for sub, utt, seconds, text in SOURCES:
            if sub != subset:
                continue
            spk, book, _ = utt.split("-")
            chapter = f"LibriSpeech/{subset}/{spk}/{book}"
            files[f"{chapter}/{utt}.flac"] = flac_bytes(seconds)
            trans = files.get(f"{chapter}/{spk}-{book}.trans.txt", b"")
            if text:
                files[f"{chapter}/{spk}-{book}.trans.txt"] = trans + f"{utt} {text}\n".encode()
        write_tar(root / f"{subset}.tar.gz", files)
    write_zip(
        root / "wham_noise.zip", {"wham_noise/tr/011a010b_0.8_20lo010l_-0.8.wav": wav_bytes(3.0)}
    )
    for n in (2, 3):
        for subset in ("train-clean-100", "train-clean-360"):
            # train-clean-360's rows name speed-perturbed noise the WHAM zip lacks
            noise = "tr/011a010b_0.8_20lo010l_-0.8" + ("sp08" if subset.endswith("360") else "")
            utts = [u for sub, u, *_ in SOURCES if sub == subset][:n]
            utts += utts[: n - len(utts)]  # a speaker may come back
            paths = [f"{subset}/{u.split('-')[0]}/{u.split('-')[1]}/{u}.flac" for u in utts]
            row = f"{'_'.join(utts)},{','.join(f'{p},0.5' for p in paths)},{noise}.wav,0.3\n"
            header = (
                MIX_HEADER
                if n == 2
                else MIX_HEADER.replace("noise_path", "source_3_path,source_3_gain,noise_path")
            )
            (root / f"libri{n}mix_{subset}.csv").write_text(f"{header}\n{row}")
            (root / f"libri{n}mix_{subset}_info.csv").write_text("speaker_ID,sex,subset\n")
    generator = Path(__file__).with_name("librimix_generator.py")  # LibriMix's, as a double
    (root / librimix.SCRIPT).write_text(generator.read_text())
    return root


def _generated(root):
    """What create_librimix_from_metadata.py leaves (only the parts the converter reads)."""
    metrics = {
        (2, "train-100"): [
            ("19-198-0001_26-495-0003", "1.23456789,-1.2345"),
            ("26-495-0003_19-198-0001", "0.5,-0.5"),  # its mixture wav is missing
            ("19-198-0001_26-495-0004", "2.0,-2.0"),  # a source without a transcript
        ],
        (2, "train-360"): [],
        (3, "train-100"): [],
        (3, "train-360"): [("100-121669-0001_1040-133433-0002_100-121669-0001", "3,4.0005,5")],
    }
    for (n, subset), rows in metrics.items():
        base = root / "LibriMix" / f"Libri{n}Mix" / "wav16k" / "max"
        (base / "metadata").mkdir(parents=True, exist_ok=True)
        (base / subset / "mix_clean").mkdir(parents=True)
        header = ",".join(["mixture_ID"] + [f"source_{i}_SNR" for i in range(1, n + 1)])
        lines = [header] + [f"{m},{snrs}" for m, snrs in rows]
        (base / "metadata" / f"metrics_{subset}_mix_clean.csv").write_text("\n".join(lines) + "\n")
        for mixture_id, _ in rows:
            if not mixture_id.startswith("26-495-0003_"):
                (base / subset / "mix_clean" / f"{mixture_id}.wav").write_bytes(wav_bytes(2.6))


def test_prepare_unpacks_and_places_the_metadata_with_the_authors_fix(tmp_path):
    root = _source(tmp_path)
    librimix.prepare(root, SOURCE)
    assert (root / "LibriSpeech" / "train-clean-360" / "100").is_dir()
    assert (root / "wham_noise" / "tr").is_dir()
    fixed = (root / "metadata" / "Libri2Mix" / "libri2mix_train-clean-360.csv").read_text()
    assert "tr/011a010b_0.8_20lo010l_-0.8.wav" in fixed and "sp08" not in fixed
    kept = (root / "metadata" / "Libri3Mix" / "libri3mix_train-clean-100.csv").read_text()
    assert "train-clean-100/19/198/19-198-0001.flac" in kept


def test_generate_runs_librimix_s_script_and_the_converter_reads_its_mixtures(tmp_path):
    root, out = _source(tmp_path), tmp_path / "generated"
    librimix.prepare(root, SOURCE)
    librimix.generate(root, out, SOURCE)
    mixture = out / "LibriMix/Libri2Mix/wav16k/max/train-100/mix_clean/19-198-0001_26-495-0003.wav"
    assert mixture.is_file()
    settings = {"category": "multi_speaker", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_descriptions("librimix", settings, out, tmp_path / "raw.parquet")
    assert ledger.rows_in == 4  # one mixture per metadata file, 2 and 3 speakers
    assert (
        "[00:00-00:03, the first speaker] northanger abbey"
        in (rows["librimix/train-100_mix_clean/19-198-0001_26-495-0003"])
    )
    librimix.generate(root, out, SOURCE)  # a rerun starts afresh (the script skips a subset
    assert mixture.is_file()  # whose folder exists)


def test_mixtures_with_sources_at_00_00(tmp_path):
    root, out = _source(tmp_path), tmp_path / "generated"
    librimix.prepare(root, SOURCE)
    with pytest.raises(librimix.MixturesNotGenerated, match=r"metrics_train-100_mix_clean\.csv"):
        librimix.describe(root, out)
    _generated(out)
    librimix.describe(root, out)
    settings = {"category": "multi_speaker", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_descriptions("librimix", settings, out, tmp_path / "raw.parquet")
    # The shown duration is the last source's (1.2 s), not the longest.
    assert rows["librimix/train-100_mix_clean/19-198-0001_26-495-0003"] == (
        "[00:00-00:03, the first speaker] northanger abbey "
        "[00:00-00:01, the second speaker] the sound of the bell (duration: 1s, "
        "the first speaker's gender: Female, the first speaker's mixture snr: 1.235, "
        "the second speaker's gender: Male, the second speaker's mixture snr: -1.234, "
        "the number of speakers: 2)"
    )
    # A speaker heard twice keeps its first snr; 3.5 s rounds to even.
    assert rows[
        "librimix/train-360_mix_clean/100-121669-0001_1040-133433-0002_100-121669-0001"
    ] == (
        "[00:00-00:04, the first speaker] tom the piper's son "
        "[00:00-00:00, the second speaker] he said "
        "[00:00-00:04, the first speaker] tom the piper's son (duration: 4s, "
        "the first speaker's gender: Female, the first speaker's mixture snr: 3.0, "
        "the second speaker's gender: Male, the second speaker's mixture snr: 4.0, "
        "the number of speakers: 2)"
    )
    assert drop_reasons(ledger) == {
        "librimix/train-100_mix_clean/26-495-0003_19-198-0001": "unreadable_item",
        "librimix/train-100_mix_clean/19-198-0001_26-495-0004": "missing_metadata",
    }


def test_the_generated_corpora_are_the_converters_with_a_generator():
    """The Snakefile reads the list; the converters own the generators."""
    import pkgutil

    from alarm.data import sources

    names = [m.name for m in pkgutil.iter_modules(sources.__path__) if not m.name.startswith("_")]
    with_generator = {
        name
        for name in names
        if name != "download"
        and hasattr(sources.converter_module(name, {"type": "url"}), "generate")
    }
    assert set(sources.GENERATED) == with_generator == {"librimix"}
