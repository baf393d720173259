"""``may_process`` (R18): may this subject's data be processed for this purpose, and why.

The answer combines the purpose's lawful basis (Art. 6(1)) with the consent ledger, restriction
(Art. 18), objection (Art. 21) and suppression (an unsubscribed, pseudonymised contact):

1. direct marketing to a suppressed subject: refused;
2. an objection: refused for direct marketing (Art. 21(3), always), for legitimate interests and
   public task (Art. 21(1)), and for consent (read as a withdrawal, Art. 7(3)); it does not apply
   to contract, legal obligation or vital interests, which go on;
3. a restriction: refused for every basis (Art. 18(1): storage only);
4. consent: allowed only with a current, unwithdrawn consent given for the purpose's current
   *material* notice version or a later one (a non-material new version keeps consents valid);
5. any other basis: allowed.

Speed: each :class:`~tutela.engine.Tutela` keeps a cache of decisions. Every event written
through this process (ledger, notice, restriction) invalidates every cache in the process at
once. Events written by other processes are noticed by a cheap watermark query (per table the
highest id, and the number of rows among its newest 1,000 ids, which also catches a transaction
that committed after a later one) made at most every ``TUTELA_CONSENT_CACHE_MS`` milliseconds
(default 250): that is the staleness bound for other processes' writes. The erasure area's
suppression list's watermark (its newest batch id) is read at most every
``TUTELA_CONSENT_SUPPRESSION_MS`` (default 2000) — the bound for new suppressions, unless the
writer calls :func:`note_write`. A warm call is a dict lookup.
"""

from __future__ import annotations

import functools
import itertools
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from tutela.consent.notices import require_purpose
from tutela.consent.restrictions import active_scopes_query
from tutela.consent.tables import ledger, notices, restrictions
from tutela.errors import InvalidInput
from tutela.legal import LawfulBasis
from tutela.policy.model import Purpose

#: milliseconds between two checks for events written by other processes
STALENESS_MS = int(os.environ.get("TUTELA_CONSENT_CACHE_MS", "250"))
#: milliseconds between two checks of the erasure area's suppression list (a table scan)
SUPPRESSION_STALENESS_MS = int(os.environ.get("TUTELA_CONSENT_SUPPRESSION_MS", "2000"))
#: late commits are noticed when they took one of the newest this-many ids of their table
WATERMARK_WINDOW = 1000
#: decisions kept per Tutela object before the cache starts afresh
MAX_CACHED = 200_000
#: subject keys per statement in the bulk form
BULK_BATCH = 1000

_CACHE_ATTR = "_consent_decision_cache"
# Every write in this process stores a never-used number here; a cache that saw another number
# is stale. Unique numbers (not +1) keep this right without a lock under concurrent writers.
_write_numbers = itertools.count(1)
_last_write = [0]


def note_write() -> None:
    """Invalidate every decision cache of this process (call after committing a consent-area write)."""
    _last_write[0] = next(_write_numbers)


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer of :func:`may_process`: ``allowed`` and a sentence saying why; ``code`` is stable."""

    allowed: bool
    reason: str
    code: str = ""

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True)
class Facts:
    """What the store knows about one subject and one purpose."""

    consent_event: str | None = None  # the newest ledger event: given | withdrawn | None
    consent_version: int | None = None  # the notice version it was given for
    material_version: int | None = None  # the purpose's current material notice version
    restricted: bool = False
    objected: bool = False
    suppressed: bool = False


_OBJECTION_DOES_NOT_APPLY = (LawfulBasis.CONTRACT, LawfulBasis.LEGAL_OBLIGATION, LawfulBasis.VITAL_INTERESTS)


def decide(name: str, purpose: Purpose, facts: Facts) -> Decision:
    """The decision for ``facts`` about purpose ``name`` (pure: no store access)."""
    basis = purpose.basis
    if purpose.direct_marketing and facts.suppressed:
        return Decision(False, f"'{name}' is direct marketing and the subject is suppressed "
                        "(unsubscribed or erased): never contact again", "suppressed")
    if facts.objected:
        if purpose.direct_marketing:
            return Decision(False, f"the subject objected to direct marketing: '{name}' stops at once and "
                            "always (Art. 21(3))", "objected_direct_marketing")
        if basis in (LawfulBasis.LEGITIMATE_INTERESTS, LawfulBasis.PUBLIC_TASK):
            return Decision(False, f"the subject objected to '{name}' ({basis.article}): processing stops "
                            "unless compelling legitimate grounds are shown and the objection is lifted "
                            "(Art. 21(1))", "objected")
        if basis == LawfulBasis.CONSENT:
            return Decision(False, f"the subject objected to '{name}', which rests on consent: the "
                            "objection counts as withdrawal (Art. 7(3))", "objected")
    if facts.restricted:
        return Decision(False, f"processing for '{name}' is restricted (Art. 18): the data may only be "
                        "stored", "restricted")
    if basis != LawfulBasis.CONSENT:
        note = (f"; the objection does not apply to {basis.value} (Art. 21(1) covers Art. 6(1)(e) and (f))"
                if facts.objected and basis in _OBJECTION_DOES_NOT_APPLY else "")
        return Decision(True, f"'{name}' rests on {basis.value} ({basis.article}){note}", "basis")
    if facts.consent_event is None:
        return Decision(False, f"no consent to '{name}' is recorded (Art. 6(1)(a))", "no_consent")
    if facts.consent_event == "withdrawn":
        return Decision(False, f"consent to '{name}' was withdrawn (Art. 7(3))", "withdrawn")
    if facts.material_version is None or facts.consent_version is None:
        return Decision(False, f"consent to '{name}' names no notice version that exists", "no_notice")
    if facts.consent_version < facts.material_version:
        return Decision(False, f"consent to '{name}' was given for notice v{facts.consent_version}; "
                        f"v{facts.material_version} changed it materially, so fresh consent is needed",
                        "stale_consent")
    return Decision(True, f"consent to '{name}' given for notice v{facts.consent_version} (current "
                    f"material version v{facts.material_version})", "consent")


class _DecisionCache:
    __slots__ = ("decisions", "generation", "watermark", "suppression_mark", "next_check",
                 "next_suppression_check", "staleness", "material")

    def __init__(self, staleness_ms: int):
        self.decisions: dict[tuple, Decision] = {}
        self.generation = -1
        self.watermark: tuple | None = None
        self.suppression_mark: tuple | None = None
        self.next_check = 0.0
        self.next_suppression_check = 0.0
        self.staleness = staleness_ms / 1000.0
        self.material: dict[str, int] | None = None

    def clear(self) -> None:
        self.decisions = {}
        self.material = None

    def refresh(self, tutela) -> None:
        """Drop what may be stale: after a write in this process, or when a watermark moved."""
        generation = _last_write[0]
        if generation != self.generation:
            self.clear()
            self.generation = generation
        now = time.monotonic()
        if now < self.next_check:
            return
        with tutela.store.engine.connect() as conn:
            watermark = tuple(conn.execute(_watermark_statement()).one())
            if now >= self.next_suppression_check:
                suppression = _suppression_watermark(conn)
                if suppression != self.suppression_mark:
                    self.clear()
                    self.suppression_mark = suppression
                self.next_suppression_check = now + max(self.staleness, SUPPRESSION_STALENESS_MS / 1000.0)
        if watermark != self.watermark:
            self.clear()
            self.watermark = watermark
        self.next_check = now + self.staleness


@functools.cache
def _watermark_statement() -> sa.Select:
    """Per table: the highest id, and how many rows lie among the newest ``WATERMARK_WINDOW`` ids.

    The count catches a transaction that took a lower id but committed after a later one (the
    highest id would not move); index range scans only.
    """
    columns = []
    for table in (ledger, restrictions, notices):
        highest = sa.select(sa.func.max(table.c.id)).scalar_subquery()
        columns.append(highest)
        columns.append(sa.select(sa.func.count()).where(
            table.c.id > sa.func.coalesce(highest, 0) - WATERMARK_WINDOW).scalar_subquery())
    return sa.select(*columns)


def _cache(tutela) -> _DecisionCache:
    cache = tutela.__dict__.get(_CACHE_ATTR)
    if cache is None:
        cache = _DecisionCache(STALENESS_MS)
        setattr(tutela, _CACHE_ATTR, cache)
    return cache


def configure_cache(tutela, *, staleness_ms: int) -> None:
    """Set how often (ms) this Tutela's cache looks for events written by other processes."""
    if staleness_ms < 0:
        raise InvalidInput("the cache staleness must be 0 ms or more")
    _cache(tutela).staleness = staleness_ms / 1000.0


def invalidate(tutela) -> None:
    """Forget every cached decision of this Tutela object."""
    cache = _cache(tutela)
    cache.clear()
    cache.next_check = cache.next_suppression_check = 0.0


def may_process(tutela, subject_key: str, purpose: str, tenant: str | None = None) -> Decision:
    """May ``subject_key``'s data be processed for ``purpose`` (in ``tenant``)? With the reason.

    Unknown purpose: :class:`InvalidInput`. Warm calls are answered from the in-process cache.
    """
    cache = tutela.__dict__.get(_CACHE_ATTR) or _cache(tutela)
    if cache.generation != _last_write[0] or time.monotonic() >= cache.next_check:
        cache.refresh(tutela)
    found = cache.decisions.get((subject_key, purpose, tenant))
    if found is not None:
        return found
    return _compute_and_keep(tutela, cache, subject_key, (subject_key,), purpose, tenant)


def may_process_identity(tutela, kind: str, value: str, purpose: str, tenant: str | None = None) -> Decision:
    """:func:`may_process` for an identity (``"email"``, ``"ada@example.org"``).

    It looks under the identity's pseudonym for every hashing key of the keyring, so consents,
    restrictions and suppressions recorded before a key rotation still count. Each call hashes the
    identity once per key, so it is slower than :func:`may_process` with a stored subject key.
    """
    from tutela.crypto.hashing import keyed_hashes

    variants = tuple(keyed_hashes(tutela.keyring, kind, value))
    cache = _cache(tutela)
    cache.refresh(tutela)
    found = cache.decisions.get((variants, purpose, tenant))
    if found is not None:
        return found
    return _compute_and_keep(tutela, cache, variants, variants, purpose, tenant)


def _compute_and_keep(tutela, cache: _DecisionCache, name, variants: tuple[str, ...], purpose: str,
                      tenant: str | None) -> Decision:
    generation = cache.generation
    decision = _decide_groups(tutela, cache, {name: variants}, purpose, tenant)[name]
    # Keep it only if no write happened while it was computed (it could predate that write).
    if generation == _last_write[0] == cache.generation:
        if len(cache.decisions) >= MAX_CACHED:
            cache.decisions = {}
        cache.decisions[(name, purpose, tenant)] = decision
    return decision


def may_process_many(tutela, subject_keys: Iterable[str], purpose: str,
                     tenant: str | None = None) -> dict[str, Decision]:
    """Decisions for many subjects at once (e.g. filtering a mailing list): one query per 1,000 keys."""
    keys = list(dict.fromkeys(subject_keys))
    cache = _cache(tutela)
    cache.refresh(tutela)
    result: dict[str, Decision] = {}
    for start in range(0, len(keys), BULK_BATCH):
        batch = keys[start:start + BULK_BATCH]
        result.update(_decide_groups(tutela, cache, {key: (key,) for key in batch}, purpose, tenant))
    return result


def _material_versions(tutela, cache: _DecisionCache, conn: sa.Connection) -> dict[str, int]:
    if cache.material is None:
        query = (sa.select(notices.c.purpose, sa.func.max(notices.c.version))
                 .where(notices.c.material == sa.true()).group_by(notices.c.purpose))
        cache.material = {purpose: version for purpose, version in conn.execute(query)}
    return cache.material


def _decide_groups(tutela, cache: _DecisionCache, groups: dict, purpose_name: str,
                   tenant: str | None) -> dict:
    """Decide for each group of subject keys (one subject under one or more hashing keys)."""
    from tutela.crypto.hashing import is_keyed_hash

    purpose = require_purpose(tutela, purpose_name)
    owner = {key: name for name, keys in groups.items() for key in keys}
    for key in owner:
        if not isinstance(key, str) or not is_keyed_hash(key):
            raise InvalidInput("subject keys must be keyed-hash pseudonyms (t1:<key id>:<hex>), "
                               "not raw identifiers")
    statement = _facts_statement(purpose.basis == LawfulBasis.CONSENT, tenant is not None,
                                 purpose.direct_marketing and _suppression_table() is not None,
                                 tutela.store.dialect == "postgresql")
    parameters = {"keys": list(owner), "purpose": purpose_name}
    if tenant is not None:
        parameters["tenant"] = tenant
    facts: dict = {name: {} for name in groups}
    newest: dict = {}
    with tutela.store.engine.connect() as conn:
        material = _material_versions(tutela, cache, conn).get(purpose_name)
        for key, source, event, version, at, event_id in conn.execute(statement, parameters):
            name = owner[key]
            if source != "consent":
                facts[name][_FLAGS[source]] = True
            elif name not in newest or (at, event_id) > newest[name]:
                newest[name] = (at, event_id)
                facts[name].update(consent_event=event, consent_version=version)
    return {name: decide(purpose_name, purpose, Facts(material_version=material, **found))
            for name, found in facts.items()}


_FLAGS = {"restriction": "restricted", "objection": "objected", "suppressed": "suppressed"}


@functools.cache
def _facts_statement(consent: bool, with_tenant: bool, with_suppression: bool, array_keys: bool):
    """One statement, built once per shape and compiled once by SQLAlchemy's cache: per key the
    newest consent event, the active restrictions/objections and, for marketing, suppression.

    Parameters: ``keys`` (an expanding IN, or on PostgreSQL with ``array_keys`` one array bound
    as ``= ANY(:keys)``, which spares binding and planning a thousand parameters), ``purpose``
    and, with ``with_tenant``, ``tenant``. Columns: subject_key, source, event, version, at, id
    (the last four for consent rows only).
    """
    if array_keys:
        from sqlalchemy.dialects.postgresql import ARRAY

        keys = sa.bindparam("keys", type_=ARRAY(sa.String))

        def match(column):
            return column == sa.any_(keys)
    else:
        keys = sa.bindparam("keys", expanding=True)

        def match(column):
            return column.in_(keys)
    purpose = sa.bindparam("purpose", type_=sa.String)
    tenant = sa.bindparam("tenant", type_=sa.String) if with_tenant else None
    parts = []
    if consent:  # first, so the union's columns take the ledger's types
        t = ledger.c
        tenant_filter = t.tenant.is_(None) if tenant is None else t.tenant == tenant
        ranked = (sa.select(t.subject_key, t.event, t.notice_version, t.at, t.id,
                            sa.func.row_number().over(partition_by=t.subject_key,
                                                      order_by=(t.at.desc(), t.id.desc())).label("rank"))
                  .where(match(t.subject_key), t.purpose == purpose, tenant_filter).subquery())
        parts.append(sa.select(ranked.c.subject_key, sa.literal_column("'consent'").label("source"),
                               ranked.c.event, ranked.c.notice_version, ranked.c.at, ranked.c.id)
                     .where(ranked.c.rank == 1))
    active = active_scopes_query(None, tenant, key_filter=match).subquery()
    parts.append(sa.select(active.c.subject_key, active.c.kind.label("source"), sa.null().label("event"),
                           sa.null().label("version"), sa.null().label("at"), sa.null().label("id"))
                 .where(sa.or_(active.c.purpose.is_(None), active.c.purpose == purpose)))
    if with_suppression:
        table = _suppression_table()
        parts.append(sa.select(table.c.hash, sa.literal_column("'suppressed'"), sa.null(), sa.null(),
                               sa.null(), sa.null())
                     .where(match(table.c.hash)))
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)


# --- suppression (owned by the erasure area) ------------------------------------------------
# ``tutela.erasure.suppression.is_suppressed`` takes a raw identity; here only the pseudonym is
# known, so the suppression table (keyed hashes, one of them the current key's pseudonym) is read
# directly. A suppression made only under a rotated-out key is found by ``is_suppressed`` with
# the raw identity, not here.
def _suppression_table():
    try:
        from tutela.erasure.tables import suppression
    except ImportError:
        return None
    return suppression


def _suppression_watermark(conn: sa.Connection) -> tuple:
    """The newest write to the suppression list: each write adds a batch row and ids only grow, so
    this is one index read however long the list is."""
    if _suppression_table() is None:
        return ()
    from tutela.erasure.tables import suppression_batch

    return (conn.execute(sa.select(sa.func.max(suppression_batch.c.id))).scalar(),)
