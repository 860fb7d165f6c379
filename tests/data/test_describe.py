import pytest

from alarm.data.describe import audio_description


def test_single_segment_layout_and_caption():
    assert audio_description(2.4, "Speech", "caption") == "[00:00-00:02] |Speech| (duration: 2s)"
    assert (
        audio_description(
            3.2,
            "I think I have a doctor's appointment.",
            emotion="Disgust",
            gender="Female",
            age=29,
            language="English",
        )
        == "[00:00-00:03] I think I have a doctor's appointment. "
        "(duration: 3s, emotion: Disgust, gender: Female, age: 29, language: English)"
    )


@pytest.mark.parametrize(
    ("seconds", "printed"), [(2.5, 2), (3.5, 4), (0.4, 0), (0.5, 0), (59.5, 60)]
)
def test_duration_uses_pythons_round_half_to_even(seconds, printed):
    text = audio_description(seconds, "x")
    assert text.endswith(f"(duration: {printed}s)")
    assert text.startswith(f"[00:00-{printed // 60:02}:{printed % 60:02}]")


def test_minutes_are_not_capped():
    assert audio_description(6001, "x").startswith("[00:00-100:01] x")


def test_keys_lowercased_in_insertion_order_values_unrounded():
    text = audio_description(
        4.0, "Speech", "caption", **{"MOS": 4.035799026489258, "Noise Level": 0.4, "A": "B"}
    )
    assert text.endswith("(duration: 4s, mos: 4.035799026489258, noise level: 0.4, a: B)")


def test_multi_segment_rounds_each_bound_and_uses_last_end():
    text = audio_description(
        [
            (0.0, 7.2, "the first speaker"),
            (7.2, 20.4, "the second speaker"),
            (2.5, 12.5, "the first speaker"),
        ],
        ["Speech", "Speech", "Hi"],
        "caption",
        **{"the speakers are the same": "No", "the number of speakers": 2},
    )
    assert text == (
        "[00:00-00:07, the first speaker] |Speech| [00:07-00:20, the second speaker] |Speech| "
        "[00:02-00:12, the first speaker] |Hi| "
        "(duration: 12s, the speakers are the same: No, the number of speakers: 2)"
    )


def test_reference_example_from_the_authors():
    assert audio_description(
        [(0, 7, "the first speaker"), (7, 20, "the second speaker")],
        ["Speech", "Speech"],
        "caption",
        **{"the speakers are the same": "No", "the number of speakers": 2},
    ) == (
        "[00:00-00:07, the first speaker] |Speech| [00:07-00:20, the second speaker] |Speech| "
        "(duration: 20s, the speakers are the same: No, the number of speakers: 2)"
    )


def test_speech_text_is_not_wrapped():
    assert audio_description([(0, 1, "the first speaker")], ["hello"]).startswith(
        "[00:00-00:01, the first speaker] hello ("
    )


@pytest.mark.parametrize(
    ("duration", "text"),
    [([(0, 1, "a")], ["x", "y"]), (3.0, ["x"]), ([], []), ([(0, 1, "a")], "x")],
)
def test_malformed_segments_are_rejected(duration, text):
    with pytest.raises((ValueError, TypeError)):
        audio_description(duration, text)


def test_unknown_text_type():
    with pytest.raises(ValueError, match="text_type"):
        audio_description(1.0, "x", "lyrics")
