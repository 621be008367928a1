"""make bench's figure 7 measures against the code of issue 19's "today", or says it cannot."""

import argparse

from bench import load, run


def test_a_clone_without_the_baseline_commit_gets_a_not_measured_row(monkeypatch):
    # A shallow clone lacks the commit: the figure says so instead of failing the bench.
    monkeypatch.setattr(load, "BASELINE_COMMIT", "0" * 40)
    path, why = load.baseline_checkout()
    assert path is None and "not in this clone" in why
    row, summary = run.fig_load(argparse.Namespace(load_seconds=1.0))
    assert row.ratio is None and row.ok is None and summary == ""
    assert row.detail.startswith("not measured: commit 0000000000")
    assert "not measured" in " | ".join(row.line())
