"""How a task finds the date(s) it works on: conf, then upstream asset events, then the
run's logical date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from src.orchestration.operators import run_dates, run_engine
from src.utils.errors import PipelineError


def event(*days: str) -> SimpleNamespace:
    return SimpleNamespace(extra={"dates": list(days)})


def test_a_date_in_the_run_conf_wins() -> None:
    context = {
        "dag_run": SimpleNamespace(conf={"date": "2026-11-18"}),
        "triggering_asset_events": {"bronze": [event("2026-11-20")]},
        "logical_date": datetime(2026, 11, 19, tzinfo=UTC),
    }
    assert run_dates(context) == [date(2026, 11, 18)]


def test_dates_carried_by_upstream_events_are_all_processed_in_order() -> None:
    context = {
        "dag_run": SimpleNamespace(conf={}),
        "triggering_asset_events": {
            "bronze": [event("2026-11-20"), event("2026-11-18", "2026-11-19")],
        },
        "logical_date": None,
    }
    assert run_dates(context) == [date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)]


def test_a_scheduled_run_processes_its_logical_date() -> None:
    context = {"dag_run": SimpleNamespace(conf=None), "logical_date": datetime(2026, 11, 20)}
    assert run_dates(context) == [date(2026, 11, 20)]


def test_a_run_without_any_date_is_refused_with_how_to_give_one() -> None:
    with pytest.raises(PipelineError, match=r'trigger it with conf \{"date": "YYYY-MM-DD"\}'):
        run_dates({"dag_run": SimpleNamespace(conf={}), "logical_date": None})


def test_the_engine_a_run_chose_follows_its_dates_downstream() -> None:
    chosen = SimpleNamespace(extra={"dates": ["2026-11-20"], "engine": "postgres"})
    downstream = {"dag_run": SimpleNamespace(conf={}), "triggering_asset_events": {"b": [chosen]}}
    assert run_engine(downstream) == "postgres"
    own = {**downstream, "dag_run": SimpleNamespace(conf={"engine": "spark"})}
    assert run_engine(own) == "spark"  # the run's own conf wins
    assert run_engine({"dag_run": SimpleNamespace(conf=None)}) is None  # the deployment's
    other = SimpleNamespace(extra={"dates": ["2026-11-21"], "engine": "spark"})
    mixed = {**downstream, "triggering_asset_events": {"b": [chosen, other]}}
    assert run_engine(mixed) is None  # upstream runs disagree: the deployment's
