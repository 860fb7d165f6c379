"""A test double of LibriMix's create_librimix_from_metadata.py (JorisCos/LibriMix @eac7cf0),
whose code the workflow fetches at run time and the tests cannot: the same command line
(its required arguments required), the same output layout, and real mixing of the
LibriSpeech and WHAM files the metadata names, at 16 kHz, "max" mode (the longest source).

Stricter than the original where that costs nothing: an unknown frequency, mode or type,
or a source or noise file missing, fails the run.
"""

import argparse
import csv
import os

import numpy as np
import soundfile as sf

parser = argparse.ArgumentParser()
parser.add_argument("--librispeech_dir", required=True)
parser.add_argument("--wham_dir", required=True)
parser.add_argument("--metadata_dir", required=True)
parser.add_argument("--librimix_outdir", required=True)
parser.add_argument("--n_src", type=int, required=True)
parser.add_argument("--freqs", nargs="+", choices=["16k"], required=True)
parser.add_argument("--modes", nargs="+", choices=["max"], required=True)
parser.add_argument("--types", nargs="+", choices=["mix_clean", "mix_both", "mix_single"])
args = parser.parse_args()

out = os.path.join(args.librimix_outdir, f"Libri{args.n_src}Mix", "wav16k", "max")
os.makedirs(os.path.join(out, "metadata"), exist_ok=True)
for name in sorted(os.listdir(args.metadata_dir)):
    if "info" in name:
        continue
    subset = name.replace(f"libri{args.n_src}mix_", "").replace("-clean", "").replace(".csv", "")
    mix_dir = os.path.join(out, subset, "mix_clean")
    os.makedirs(mix_dir)  # an existing subset is skipped by the original; none may exist here
    with open(os.path.join(args.metadata_dir, name), newline="") as f:
        rows = list(csv.DictReader(f))
    metrics = [["mixture_ID"] + [f"source_{i}_SNR" for i in range(1, args.n_src + 1)]]
    for row in rows:
        sources = []
        for i in range(1, args.n_src + 1):
            path = os.path.join(args.librispeech_dir, row[f"source_{i}_path"])
            audio, rate = sf.read(path, dtype="float64")
            assert rate == 16000, path
            sources.append(audio * float(row[f"source_{i}_gain"]))
        noise, _ = sf.read(os.path.join(args.wham_dir, row["noise_path"]), dtype="float64")
        length = max(len(s) for s in sources)
        padded = [np.pad(s, (0, length - len(s))) for s in sources]
        mixture = np.sum(padded, axis=0)
        sf.write(os.path.join(mix_dir, f"{row['mixture_ID']}.wav"), mixture, 16000)
        snrs = [
            10 * np.log10(np.sum(s**2) / max(np.sum((mixture - s) ** 2), 1e-12)) for s in padded
        ]
        metrics.append([row["mixture_ID"], *snrs])
        assert noise.size  # the noise is read, as the original mixes it into mix_both
    with open(os.path.join(out, "metadata", f"metrics_{subset}_mix_clean.csv"), "w") as f:
        csv.writer(f).writerows(metrics)
