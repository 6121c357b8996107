"""Table types: inherit one base (or mixin) to declare what kind of table a class is.

=================  ==============================  =========================================
type               base / mixin                    what the framework adds
=================  ==============================  =========================================
reference          ReferenceTableBase / ...Mixin   SMALLINT key (``<table>_id`` when none is
                                                   declared), ``is_active``, ``systime``
transactional      TransactionalTableBase / ...    UUID key (``<table>_id``, generated when
                                                   absent), ``effective_time``
temporal           TemporalTableBase / ...Mixin    ``sys_start``, ``sys_end``; primary key =
                                                   business key + ``sys_start``; history
                                                   triggers, current-state view, as-of reads
=================  ==============================  =========================================

Example::

    class TradeStatusType(ReferenceTableBase, table=True):
        __table_args__ = {"schema": "common"}
        name: str = Field(unique=True)

    class InstrumentHist(TemporalTableBase, table=True):
        __table_args__ = {"schema": "silver"}
        instrument_id: uuid.UUID = Field(primary_key=True)   # the business key
        symbol: str

The mixins let a class keep a base of its own (``class X(ReferenceTableMixin, MyBase,
table=True)``); the bases are the mixins on :class:`MedallionModel`.
"""

from __future__ import annotations

from typing import ClassVar

from sqlmodel import SQLModel

from src._base.tables.base import MedallionModel, TableTypeMeta
from src._base.tables.table_types import REFERENCE, TEMPORAL, TRANSACTIONAL, TableType

__all__ = [
    "ReferenceTableBase",
    "ReferenceTableMixin",
    "TemporalTableBase",
    "TemporalTableMixin",
    "TransactionalTableBase",
    "TransactionalTableMixin",
]


class ReferenceTableMixin(SQLModel, metaclass=TableTypeMeta):
    """A lookup table: SMALLINT key, ``is_active``, ``systime``; named ``*_type``."""

    __table_type__: ClassVar[TableType] = REFERENCE


class TransactionalTableMixin(SQLModel, metaclass=TableTypeMeta):
    """A business entity: UUID key, ``effective_time``; named after the entity."""

    __table_type__: ClassVar[TableType] = TRANSACTIONAL


class TemporalTableMixin(SQLModel, metaclass=TableTypeMeta):
    """A system-versioned history table ``*_hist`` with a current-state view beside it.

    ``__temporal_key__`` chooses the system column in the primary key: ``"sys_start"``
    (the default: business key + sys_start) or ``"sys_end"``. Both are unique, since a
    key's versions never overlap; with ``"sys_end"`` the key itself keeps one current row
    per key (no extra index) and an UPDATE changes no indexed column, so PostgreSQL can
    update in place (HOT) when pages have room: pair it with
    ``__table_args__ = {"postgresql_with": {"fillfactor": 90}}`` for write-heavy tables.

    ``__history_layout__ = "partitioned"`` stores current rows and closed versions apart:
    ``*_hist`` is partitioned by ``sys_end`` into ``<table>_current`` (fillfactor 90, so
    an UPDATE is in place) and ``<table>_closed``; queries, the view, the as-of functions
    and the semantics are those of the single layout. It implies the ``sys_end`` key.
    """

    __table_type__: ClassVar[TableType] = TEMPORAL
    __temporal_key__: ClassVar[str] = "sys_start"
    __history_layout__: ClassVar[str] = "single"


class ReferenceTableBase(ReferenceTableMixin, MedallionModel):
    pass


class TransactionalTableBase(TransactionalTableMixin, MedallionModel):
    pass


class TemporalTableBase(TemporalTableMixin, MedallionModel):
    pass
