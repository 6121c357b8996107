from __future__ import annotations

import pytest

from src._base.naming import MAX_IDENTIFIER_BYTES, identifier, qualified, snake_case


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("TradeStatusType", "trade_status_type"),
        ("InstrumentHist", "instrument_hist"),
        ("OHLCVBar", "ohlcv_bar"),
        ("BrTrade", "br_trade"),
        ("Bar1Min", "bar1_min"),
        ("trade", "trade"),
    ],
)
def test_snake_case(name: str, expected: str) -> None:
    assert snake_case(name) == expected


def test_short_identifiers_are_kept() -> None:
    assert identifier("instrument_hist", "current_key") == "instrument_hist_current_key"


def test_long_identifiers_are_shortened_deterministically_and_distinctly() -> None:
    base = "x" * 60
    first = identifier(base, "before_update")
    second = identifier(base, "after_update")
    assert len(first.encode()) <= MAX_IDENTIFIER_BYTES
    assert len(second.encode()) <= MAX_IDENTIFIER_BYTES
    assert first != second
    assert first == identifier(base, "before_update")


def test_multibyte_names_are_cut_on_a_character_boundary() -> None:
    name = identifier("é" * 40, "suffix")
    assert len(name.encode()) <= MAX_IDENTIFIER_BYTES
    name.encode().decode()  # still valid UTF-8


def test_qualified_quotes_both_parts() -> None:
    assert qualified("silver", "trade") == '"silver"."trade"'
    assert qualified(None, 'we"ird') == '"we""ird"'
