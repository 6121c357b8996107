"""A run's note names the data dates its tasks process, found as they find them."""

from __future__ import annotations

from src.orchestration.run_labels import label, run_data_dates


def test_the_conf_date_wins_then_the_dates_the_upstream_events_carried() -> None:
    events = [{"dates": ["2026-11-20"]}, {"dates": ["2026-11-18", "2026-11-20"]}, None]
    assert run_data_dates({"date": "2026-11-19"}, events) == ["2026-11-19"]
    assert run_data_dates({}, events) == ["2026-11-18", "2026-11-20"]
    assert run_data_dates(None, [{"unrelated": 1}]) == []  # not ours: left without a note


def test_the_label_says_what_the_run_was_asked_to_do() -> None:
    assert label(["2026-11-20"], {}) == "data 2026-11-20"
    conf = {"reload": True, "accept_partial": True}
    assert label(["2026-11-20"], conf) == "data 2026-11-20, reload, partial accepted"
