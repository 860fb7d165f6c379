"""The official MMAU/MMAR string_match, quirks included (kept for parity)."""

import pytest

from alarm.benchmarks.score import string_match

CHOICES = ["Acoustic guitar", "Electric guitar", "Piano", "Violin"]


@pytest.mark.parametrize(
    ("answer", "prediction", "choices", "expected"),
    [
        ("Acoustic guitar", "Acoustic guitar", CHOICES, True),
        ("Acoustic guitar", "guitar acoustic", CHOICES, True),  # word order ignored
        ("Acoustic guitar", "It is an acoustic guitar.", CHOICES, True),  # extra words pass
        ("Acoustic guitar", "acoustic or electric guitar", CHOICES, False),  # another option's word
        ("Acoustic guitar", "guitar", CHOICES, False),  # missing answer token
        ("Acoustic guitar", "A", CHOICES, False),  # a bare letter never matches
        ("Acoustic guitar", "", CHOICES, False),
        ("Acoustic guitar", "   ", CHOICES, False),
        ("Three years", "Three year", ["Three years", "Five years"], False),  # year != years
        (
            "Three years",
            "Three and a half years",
            ["Three years", "Three and a half years"],
            False,
        ),
        (
            "Three and a half years",
            "three and a half years",
            ["Three years", "Three and a half years"],
            True,
        ),
        # Options with the answer's token set are ignored, so the wrong one is credited.
        ("From far to near", "From near to far", ["From far to near", "From near to far"], True),
        ("狗在叫", "狗在叫", ["狗在叫", "猫在叫"], True),  # CJK run is one token
        ("狗在叫", "狗在叫声", ["狗在叫", "猫在叫"], False),
        ("DOG", "dog!", ["Dog", "Cat"], True),  # case and punctuation ignored
    ],
)
def test_string_match(answer, prediction, choices, expected):
    assert string_match(answer, prediction, choices) is expected
