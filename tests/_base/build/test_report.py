from __future__ import annotations

from src._base.build.report import StepResult, render_report


def test_report_lists_counts_and_failures() -> None:
    ok = StepResult("tables", "demo", created=["a", "b"], present=["c"], seconds=0.5)
    bad = StepResult("reference_data", "demo", failed=["rejected x (id=1): bad"], seconds=0.1)
    text = render_report([ok, bad])
    assert "tables           demo                  2        1       0    0.50s" in text
    assert "  reference_data/demo: rejected x (id=1): bad" in text
    assert text.endswith("Build FAILED in 0.60s")


def test_empty_report_succeeds() -> None:
    assert render_report([]).endswith("Build SUCCESS in 0.00s")
