"""How a refused value is quoted in an error: cut short, with its length, never in full."""

from __future__ import annotations

from airflow_provider_wa_phones.checks import QUOTE_LIMIT, quoted


def test_a_short_value_is_quoted_whole():
    assert quoted("appkey\n") == "'appkey\\n'"


def test_a_long_string_is_cut_to_the_limit_and_says_how_long_it_was():
    text = quoted("x" * 1_048_576)
    assert QUOTE_LIMIT == 80
    assert text == "'" + "x" * 79 + "... (1048576 characters)"


def test_a_long_value_of_another_type_says_its_length_as_text():
    value = list(range(100))
    text = quoted(value)
    assert text.startswith(repr(value)[:80] + "... (")
    assert text.endswith(f"({len(repr(value))} characters as text)")


def test_a_huge_integer_is_described_not_printed():
    # repr() of an int of 4,300+ digits raises ValueError in Python 3.11.
    assert quoted(10**5000) == f"a whole number of {(10**5000).bit_length()} bits"


def test_a_value_whose_repr_fails_is_named_by_its_type():
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert quoted(Broken()) == "<Broken object>"
