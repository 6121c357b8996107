"""Market data: provider clients, rate limits and retries, the canonical bar.

Providers (:mod:`.providers`) speak each vendor's wire format behind one small
interface; :mod:`.fetch` pages through a range with either an httpx ``Client`` or
``AsyncClient``, honouring the vendor's rate-limit headers and ``Retry-After``, retrying
transient failures only (tenacity) and stopping a symbol on a terminal one.
"""
