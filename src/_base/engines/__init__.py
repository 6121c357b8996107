"""Engines that run a transform's declared steps.

``spark`` is the reference (local or a cluster); ``postgres`` runs the same Spark SQL,
transpiled, inside the warehouse (:mod:`.postgres`). Choose with ``--engine`` or
``MEDALLION_ENGINE``.
"""

from __future__ import annotations

import difflib

from src.utils.errors import ConfigError

ENGINES = ("spark", "postgres")


def check_engine(name: str) -> str:
    """``name`` if it is an engine; otherwise a did-you-mean error."""
    if name in ENGINES:
        return name
    hint = difflib.get_close_matches(name, ENGINES, n=1)
    did_you_mean = f" Did you mean '{hint[0]}'?" if hint else ""
    raise ConfigError(
        f"Unknown engine '{name}'.{did_you_mean} Engines: {', '.join(ENGINES)} "
        "(--engine or MEDALLION_ENGINE)."
    )
