"""Answer extraction, clean rule and the authors' parity rule, case by case."""

import pytest

from alarm.benchmarks.extract import (
    extract,
    extract_choice,
    extract_choice_parity,
    extract_index,
    final_text,
)

SOUNDS = ["Dog barking", "Car horn", "Cat meowing", "Bird singing"]
NUMBERS = ["3", "4", "5", "6"]
FIVE = ["Piano", "Violin", "Cello", "Flute", "Harp"]


@pytest.mark.parametrize(
    ("response", "choices", "expected"),
    [
        # ids, 0-based, as the prompt asks
        ("<answer>2</answer>", SOUNDS, "Cat meowing"),
        ("</think>\n\n<answer>1</answer>", SOUNDS, "Car horn"),
        ("<answer>Option_2</answer>", SOUNDS, "Cat meowing"),
        ("<answer>(3)</answer>", SOUNDS, "Bird singing"),
        ("<answer> 0 </answer>", SOUNDS, "Dog barking"),
        # numeric options: the id wins, a value that is out of range as an id maps to its option
        ("<answer>2</answer>", NUMBERS, "5"),
        ("<answer>3</answer>", NUMBERS, "6"),
        ("<answer>5</answer>", NUMBERS, "5"),
        ("<answer>9</answer>", NUMBERS, None),
        ("<answer>7</answer>", SOUNDS, None),
        # letters, 1-based
        ("<answer>B</answer>", SOUNDS, "Car horn"),
        ("(B)", SOUNDS, "Car horn"),
        ("**Answer: C**", SOUNDS, "Cat meowing"),
        ("The answer is E.", FIVE, "Harp"),
        ("The answer is:\n\nD", SOUNDS, "Bird singing"),
        ("The answer is E.", SOUNDS, None),  # no fifth option
        ("A. The dog is barking loudly.", SOUNDS, "Dog barking"),
        # option text
        ("DOG BARKING.", SOUNDS, "Dog barking"),
        ("It is a car horn, I am sure.", SOUNDS, "Car horn"),
        ("2 (Car horn)", SOUNDS, "Car horn"),
        ("The correct option is Bird singing", SOUNDS, "Bird singing"),
        ("guitar", ["Acoustic guitar", "Electric guitar"], None),  # shared token only
        ("an electric guitar", ["Acoustic guitar", "Electric guitar"], "Electric guitar"),
        ("Three years", ["Three years", "Three and a half years"], "Three years"),
        (
            "three and a half years",
            ["Three years", "Three and a half years"],
            "Three and a half years",
        ),
        ("from near to far", ["From far to near", "From near to far"], "From near to far"),
        ("near and far", ["From far to near", "From near to far"], None),
        # tag problems
        ("<answer>2<answer>", SOUNDS, "Cat meowing"),
        ("<answer>1</answer> wait, no: <answer>3</answer>", SOUNDS, "Bird singing"),
        ("<answer></answer> The answer is 2", SOUNDS, "Cat meowing"),
        ("2</answer>", SOUNDS, "Cat meowing"),
        # drafts inside the reasoning never count
        ("Maybe <answer>0</answer>.\n</think>\n\n<answer>1</answer>", SOUNDS, "Car horn"),
        ("The answer is 0? No.\n</think>\nThe answer is 3.", SOUNDS, "Bird singing"),
        ("I hear a dog. <answer>0</answer></think>\n\nI cannot tell.", SOUNDS, None),
        # prose: the tag decides; negation is not guessed
        ("</think>A dog barks, then a car horn.\n<answer>1</answer>", SOUNDS, "Car horn"),
        ("</think>It is not the violin, it is the cello.", ["Violin", "Cello", "Flute"], None),
        # expected None
        ("either B or C", SOUNDS, None),
        ("The answer is either B or C.", SOUNDS, None),
        ("B or C", SOUNDS, None),
        ("I'm sorry, but I cannot determine this from the audio.", SOUNDS, None),
        ("<answer>None</answer>", SOUNDS, None),
        ("<answer>None</answer>", ["Dog", "Cat", "None"], None),
        ("<think>The dog... <answer>0</answer>", SOUNDS, None),  # reasoning never closed
        ("The dog... <answer>0</answer>", SOUNDS, "Dog barking"),  # no tags at all
        ("</think>ok <think>reconsidering <answer>1</answer>", SOUNDS, None),
        ("", SOUNDS, None),
        # other languages and short forms
        ("<answer>狗在叫</answer>", ["狗在叫", "猫在叫"], "狗在叫"),
        ("答案是：猫在叫", ["狗在叫", "猫在叫"], "猫在叫"),
        ("No.", ["Yes", "No"], "No"),
        ("Yes, definitely.", ["Yes", "No"], "Yes"),
        # options that are letters themselves: text first, ids still work
        ("<answer>C</answer>", ["A", "C", "E", "G"], "C"),
        ("<answer>1</answer>", ["A", "C", "E", "G"], "C"),
    ],
)
def test_clean_extraction(response, choices, expected):
    assert extract_choice(response, choices) == expected


def test_duplicate_options_are_one_answer():
    choices = ["Dog", "Cat", "Dog", "Bird"]
    assert extract_choice("<answer>Dog</answer>", choices) == "Dog"
    assert extract_index("dog", choices) == 0
    assert extract_index("<answer>2</answer>", choices) == 2


def test_final_text():
    assert final_text("reasoning</think>final") == "final"
    assert final_text("a</think>b</think>c") == "c"
    assert final_text("<think>unfinished") is None
    assert final_text("plain") == "plain"
    # Qwen3-Thinking's template opens <think>: without </think> it is all reasoning.
    assert final_text("draft: <answer>1</answer>", reasoning_opened=True) is None
    assert final_text("r</think>final", reasoning_opened=True) == "final"


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("<answer>2</answer>", "Cat meowing"),
        ("<answer>B</answer>", "Dog barking"),  # no letters: option 0
        ("<answer>Option_2</answer>", "Dog barking"),
        ("<answer>2 (Car horn)</answer>", "Dog barking"),
        ("", "Dog barking"),
        ("no tag at all", "Dog barking"),
        ("<answer>2<answer>", "Dog barking"),  # the last piece is empty
        ("<answer>-1</answer>", "Bird singing"),  # Python indexing from the end
        ("<answer>7</answer>", "7"),  # out of range: the index as text
        ("<answer>-9</answer>", "-9"),
        ("<answer> +1 </answer>", "Car horn"),
        ("<answer>２</answer>", "Cat meowing"),  # int() takes full-width digits
        # the whole output counts, reasoning included
        ("draft <answer>3</answer></think>\nThe answer is 1.", "Bird singing"),
    ],
)
def test_parity_extraction(response, expected):
    assert extract_choice_parity(response, SOUNDS) == expected


def test_parity_matches_a_numeric_answer_by_index_text():
    assert extract_choice_parity("<answer>5</answer>", NUMBERS) == "5"


def test_dispatcher():
    assert extract("r</think><answer>B</answer>", SOUNDS, "clean") == "Car horn"
    assert extract("unfinished, <answer>B</answer>", SOUNDS, "clean") is None  # a draft
    assert extract("<answer>B</answer>", SOUNDS, "alarm-parity") == "Dog barking"
    assert extract(None, SOUNDS, "clean") is None
    assert extract(None, SOUNDS, "alarm-parity") is None
    with pytest.raises(ValueError, match="unknown extraction mode"):
        extract("x", SOUNDS, "lenient")
