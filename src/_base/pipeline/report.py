"""A plain-text table of transform results, for logs and the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from src._base.pipeline.result import TransformResult


def render_results(results: Sequence[TransformResult]) -> str:
    header = (
        f"{'layer':<7} {'transform':<26} {'read':>10} {'written':>10} {'rejected':>9} {'time':>7}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        if r.skipped:
            lines.append(f"{r.layer:<7} {r.job:<26} {'skipped: ' + r.skipped}")
            continue
        lines.append(
            f"{r.layer:<7} {r.job:<26} {r.rows_read:>10,} {r.rows_written:>10,} "
            f"{r.rows_rejected:>9,} {r.seconds:>6.1f}s"
        )
    return "\n".join(lines)
