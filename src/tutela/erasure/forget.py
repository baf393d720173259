"""Forgetting one data subject (R6, R14): every declared field of every row, children first.

1. Find the subject's keys from an identifier (indexed match, including already-hashed forms).
2. Read each table's actions from the policy and check them against the live columns, and build
   each table's row filter — all before anything changes.
3. Put every identifier of the subject on the suppression list (idempotent, so a crash after this
   step never leaves an erased contact mailable).
4. Per system, one transaction: each table's rows, deepest first, get their actions set-based.
5. Sign and write a receipt; audit ``erasure.forget`` under the subject's pseudonym.

Running it again finds the subject by its hashes and changes nothing.
"""

from __future__ import annotations

import weakref

from tutela.actions.context import ActionContext, stored_normalised
from tutela.crypto.hashing import is_keyed_hash, keyed_hash_normalised, pseudonym
from tutela.erasure.apply import TableWork, apply_work
from tutela.erasure.receipts import make_receipt, write_receipt
from tutela.erasure.result import ErasureResult
from tutela.erasure.suppression import add_entries, check_reason, entry
from tutela.errors import NotFound
from tutela.subjects import SUBJECT_ID, SubjectGraph


def forget_subject(tutela, subject: str, kind: str, value: str, *, reason: str, tenant: str | None = None,
                   actor: str) -> ErasureResult:
    """Apply the policy's erasure action to every field of the subject's rows in every system.

    ``kind`` is one of the subject's identities (``email``, ``phone`` …) or ``subject_id``.
    Raises :class:`NotFound` ("no data found") when nothing matches, :class:`InvalidInput` for a
    malformed identifier or reason, :class:`SchemaMismatch` when an action does not fit its column;
    in each case nothing is changed.
    """
    check_reason(reason)
    graph = SubjectGraph.cached(tutela, subject)
    keys, stored = graph.resolve_with_identities(kind, value, tenant)
    if not keys:
        what = "subject id" if kind == SUBJECT_ID else kind
        scope = f" in tenant '{tenant}'" if tenant else ""
        raise NotFound(f"no data found for that {what}{scope}: nothing was changed")
    nodes = graph.nodes_children_first()
    works = _table_works(tutela, graph)
    with graph.identities_read_once():
        filters = graph.row_filters(keys, tenant)
    identities = _keyed_identities(tutela, stored)
    if kind != SUBJECT_ID:
        identities.insert(0, (kind, pseudonym(tutela.keyring, kind, value)))
    subject_key = identities[0][1] if identities else None
    source = f"{graph.root.system}.{graph.root.name}"
    add_entries(tutela, [entry(h, k, reason, tenant=tenant, source=source) for k, h in identities])

    counts: dict[str, int] = {}
    for system in graph.systems():
        with tutela.system_engine(system).begin() as conn:
            context = ActionContext.for_connection(conn, tutela.keyring)
            for node in (n for n in nodes if n.system == system):
                counts[node.key] = apply_work(conn, works[node.key], filters[node.key], context)

    tables = [{"system": works[n.key].system, "table": n.name, "depth": n.depth,
               "action": "delete_row" if works[n.key].deletes_rows else "update",
               "fields": works[n.key].actions(), "rows": counts[n.key]} for n in nodes]
    receipt = make_receipt(tutela, operation="forget", tables=tables, subject=subject_key, subject_type=subject,
                           reason=reason, tenant=tenant, actor=actor,
                           extra={"suppressed": len({h for _, h in identities})})
    path = write_receipt(tutela, receipt)
    tutela.audit.record("erasure.forget", actor=actor, subject=subject_key, tenant=tenant, reason=reason,
                        subject_type=subject, subjects=len(keys), rows=sum(counts.values()),
                        tables=counts, receipt=receipt["id"])
    return ErasureResult("forget", counts, subject=subject_key, suppressed=len({h for _, h in identities}),
                         receipt=receipt, receipt_path=path)


_works: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _table_works(tutela, graph: SubjectGraph) -> dict[str, TableWork]:
    """Each node's actions from the policy, checked against its live columns once per graph (the
    graph is rebuilt when the schema is reflected again)."""
    works = _works.get(graph)
    if works is None:
        works = _works[graph] = {n.key: TableWork.from_policy(tutela, n.system, n.name, n.table)
                                 for n in graph.nodes.values()}
    return works


def _keyed_identities(tutela, stored: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(kind, keyed hash) of the identifiers stored on the subjects' root rows (read by the resolve)."""
    key_id = tutela.keyring.current_hash_key_id
    key = tutela.keyring.hash_key(key_id)
    found = [(kind, value if is_keyed_hash(value) else
              keyed_hash_normalised(key, key_id, stored_normalised(kind, value))) for kind, value in stored]
    return list(dict.fromkeys(found))
