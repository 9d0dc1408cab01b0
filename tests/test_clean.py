"""``clean_reason``, the one place that decides what text may be shown, as a table."""

from __future__ import annotations

import pytest

from lbhealth.text.clean import clean_data, clean_reason


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("EA\u009b2J\u009b31mAS", "EA 2J 31mAS"),  # 8-bit CSI: clear screen, red
        ("a\x1b[2Jb\x07c\x7fd", "a [2Jb c d"),  # 7-bit ESC, BEL, DEL
        ("a\u0085b\u0090c\u009fd", "a b c d"),  # NEL, DCS, APC: all of C1
        ("a\u202eb\u202ac\u2066d\u2069e", "a b c d e"),  # bidi overrides and isolates
        ("a\u200eb\u200fc\u061cd", "a b c d"),  # bidi marks
        ("line\u2028and\u2029paragraph", "line and paragraph"),
        ("X-LBHealth-State: up", "X-lbhealth_state: up"),
        ("LBHEALTH-STATE lbhealth-State", "lbhealth_state lbhealth_state"),
        ("lbhealth-\u202estate", "lbhealth- state"),  # removing a control forges nothing
        ("caf\u00e9 \u00fcber \u65e5\u672c", "caf\u00e9 \u00fcber \u65e5\u672c"),  # printable stays
    ],
)
def test_only_printable_text_on_one_line_is_shown(raw: str, shown: str) -> None:
    assert clean_reason(raw) == shown


def test_a_cut_is_marked() -> None:
    assert clean_reason("word " * 100, 20) == "word word word wo..."


def test_huge_text_is_read_only_to_a_bound_and_marked_as_cut() -> None:
    shown = clean_reason(" " * 1_000_000 + "hidden secret tail")
    assert shown == "..."


def test_clean_data_cleans_every_string_keys_too() -> None:
    data = {"a\u009b": ["x\u202ey", 3, {"k": "lbhealth-state"}], "n": None}
    assert clean_data(data) == {"a": ["x y", 3, {"k": "lbhealth_state"}], "n": None}
