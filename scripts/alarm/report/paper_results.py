"""The paper's reported figures (Tables 1, 3 and 5), to print beside ours.

Keyed by benchmark, then by our model names, then by column. Figure 3 (the
AIR-Bench radar) gives no numbers, so AIR-Bench has no reported rows.
"""

from __future__ import annotations

# Paper order; the display names are the paper's.
MODEL_NAMES = {
    "al_whisper_instruct_r": "AL-Whisper-Instruct-R",
    "al_w2vbert2_r": "AL-W2VBERT2-R",
    "al_muq_r": "AL-MuQ-R",
    "al_sslam_r": "AL-SSLAM-R",
    "al_whisper_r": "AL-Whisper-R",
    "alarm_ca": "ALARM-CA",
    "alarm_p": "ALARM-P",
    "alarm_e": "ALARM-E",
}

# Table 3: MMSU perception, reasoning and overall (micro) accuracy.
MMSU = {
    "al_whisper_instruct_r": {"perception": 38.2, "reasoning": 73.6, "overall": 55.3},
    "alarm_ca": {"perception": 39.6, "reasoning": 68.3, "overall": 53.5},
    "alarm_p": {"perception": 38.4, "reasoning": 74.2, "overall": 55.8},
    "alarm_e": {"perception": 45.4, "reasoning": 78.3, "overall": 61.3},
}


def _mmau(*values: float) -> dict[str, dict[str, float]]:
    """Table 5 cells "test-mini / test" for sound, music, speech and mean, in that order."""
    columns = ("sound", "music", "speech", "mean")
    mini, test = values[0::2], values[1::2]
    return {
        "mini": dict(zip(columns, mini, strict=True)),
        "test": dict(zip(columns, test, strict=True)),
    }


# Table 5: MMAU v05.15.25 (sound, music, speech, mean as test-mini, test pairs).
_TABLE5_MMAU = {
    "al_whisper_instruct_r": _mmau(45.9, 49.9, 46.7, 49.7, 73.0, 73.0, 55.2, 57.5),
    "al_w2vbert2_r": _mmau(46.2, 46.9, 47.9, 46.0, 47.7, 48.2, 47.3, 47.0),
    "al_muq_r": _mmau(50.5, 49.1, 53.9, 53.3, 40.84, 43.1, 48.4, 48.5),
    "al_sslam_r": _mmau(61.3, 60.4, 46.7, 50.9, 45.9, 47.8, 51.3, 53.0),
    "al_whisper_r": _mmau(52.3, 55.6, 46.7, 49.7, 57.1, 58.8, 52.0, 54.7),
    "alarm_ca": _mmau(66.4, 61.1, 57.2, 53.3, 60.1, 61.1, 61.2, 58.5),
    "alarm_p": _mmau(58.6, 58.5, 52.7, 53.3, 68.8, 66.7, 60.0, 59.5),
    "alarm_e": _mmau(64.0, 59.1, 54.8, 54.2, 77.2, 73.7, 65.3, 62.4),
}
MMAU_TEST_MINI = {model: cells["mini"] for model, cells in _TABLE5_MMAU.items()}
MMAU_TEST = {model: cells["test"] for model, cells in _TABLE5_MMAU.items()}

# Table 5: MMAR overall accuracy.
MMAR = {
    "al_whisper_instruct_r": {"overall": 49.1},
    "al_w2vbert2_r": {"overall": 37.4},
    "al_muq_r": {"overall": 36.0},
    "al_sslam_r": {"overall": 33.8},
    "al_whisper_r": {"overall": 37.3},
    "alarm_ca": {"overall": 40.6},
    "alarm_p": {"overall": 43.5},
    "alarm_e": {"overall": 48.7},
}

REPORTED: dict[str, dict[str, dict[str, float]]] = {
    "mmsu": MMSU,
    "mmau_test_mini": MMAU_TEST_MINI,
    "mmau_test": MMAU_TEST,
    "mmar": MMAR,
}


# Table 1: the compiled corpus, "total / train / validation" (elements in millions, hours in
# thousands, unique prompts in millions).
CORPUS = {
    "Speech": ((2.91, 2.60, 0.29), (9.88, 8.83, 0.98), (1.40, 1.27, 0.16)),
    "Sound": ((2.01, 1.80, 0.20), (5.54, 4.98, 0.55), (0.36, 0.33, 0.06)),
    "Music": ((0.59, 0.53, 0.06), (2.45, 2.21, 0.24), (0.16, 0.14, 0.03)),
    "Instruction": ((0.57, 0.56, 0.01), (1.02, 1.01, 0.01), (0.57, 0.56, 0.01)),
    "Total": ((6.08, 5.49, 0.56), (18.89, 17.03, 1.78), (2.49, 2.3, 0.26)),
}
