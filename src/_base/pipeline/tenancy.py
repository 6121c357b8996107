"""A transform as it runs for one tenant: its warehouse relations in the tenant's schemas.

    spec = for_tenant(entry.spec, "acme", ("bronze", "silver", "gold"))

Every SQL text and relation name of the declaration that names a table of one of the
tenant's layers (``silver.trade``, ``gold.position_eod_hist__as_of(...)``, in a read,
a step, a target, a publication) is pointed at the tenant's copy
(``tenant_acme_silver.trade``); shared schemas (``common``) stay shared. Sources are
not warehouse relations and are left alone. A ``Custom`` transform is Python the
framework cannot read, so it does not run per tenant.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from src._base.build.project import tenant_schema
from src._base.pipeline.shapes import Custom, LandingFiles, SourceTable
from src.utils.errors import PipelineError


def _pattern(layers: Sequence[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(layer) for layer in sorted(layers, key=len, reverse=True))
    return re.compile(rf"(?<![\w.\"])({names})\.(?=[A-Za-z_\"])")


def _rewrite(value: Any, tenant: str, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(lambda m: f"{tenant_schema(tenant, m.group(1))}.", value)
    if isinstance(value, SourceTable | LandingFiles):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _rewrite(getattr(value, f.name), tenant, pattern)
            for f in dataclasses.fields(value)
            if f.init
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(_rewrite(v, tenant, pattern) for v in value)
    if isinstance(value, list):
        return [_rewrite(v, tenant, pattern) for v in value]
    if isinstance(value, Mapping):
        return {k: _rewrite(v, tenant, pattern) for k, v in value.items()}
    return value


def for_tenant(spec: Any, tenant: str, layers: Sequence[str], name: str = "") -> Any:
    """``spec`` with its warehouse relations in ``tenant``'s schemas."""
    if isinstance(spec, Custom):
        raise PipelineError(
            f"{name or 'this transform'} is a Custom transform: its Python cannot be pointed "
            "at a tenant's schemas. Declare it with a shape to run it per tenant."
        )
    return _rewrite(spec, tenant, _pattern(layers))
