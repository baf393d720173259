"""What running a verified request does, per type. Each is idempotent, so a re-run after a crash
finishes the work: exports are rebuilt, erasure and rectification set the same values again,
restriction and objection records are placed once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tutela.errors import NotFound
from tutela.requests import sealing
from tutela.requests.model import RequestType

if TYPE_CHECKING:
    from tutela.requests.service import Opened, RequestService


def execute(service: RequestService, row, opened: Opened, *,
            progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Carry out the request ``row``; the returned dict is stored as the request's result."""
    kind = RequestType(row.type)
    note = progress or (lambda _message: None)
    if kind in (RequestType.ACCESS, RequestType.PORTABILITY):
        return _export(service, row, opened, portability=kind is RequestType.PORTABILITY, note=note)
    if kind is RequestType.ERASURE:
        return _erase(service, row, opened, note=note)
    if kind is RequestType.RECTIFICATION:
        return _rectify(service, row, opened, note=note)
    return _restrict(service, row, kind=kind.value)


def _graph_and_keys(service: RequestService, row, opened: Opened):
    from tutela.subjects import SubjectGraph

    graph = SubjectGraph.cached(service.tutela, row.subject_type)
    keys: list[Any] = []
    for identity in opened.identities:
        keys += [k for k in graph.resolve(identity.kind, identity.value, tenant=row.tenant) if k not in keys]
    return graph, keys


def _export(service: RequestService, row, opened: Opened, *, portability: bool, note) -> dict[str, Any]:
    from tutela.requests.export import build_zip, collect_rows, engine_records

    graph, keys = _graph_and_keys(service, row, opened)
    note(f"found {len(keys)} subject record(s); collecting rows")
    tables = collect_rows(service.tutela, graph, keys, tenant=row.tenant, portability=portability)
    records = engine_records(service.tutela, row.subject_pseudonym, row.tenant,
                             [(i.kind, i.value) for i in opened.identities])
    now = service.clock()
    data = build_zip(service.tutela, tables, records, portability=portability, generated_at=now,
                     request={"id": row.id, "type": row.type, "received_at": row.received_at.isoformat() + "Z"})
    name = f"{row.id}.{row.type}.zip.sealed"
    path = service.export_dir() / name
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(sealing.seal(service.tutela.keyring, f"export:{row.id}", data))
    tmp.chmod(0o600)
    tmp.replace(path)
    return {"export": {"file": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                       "tables": {t.name: len(t.rows) for t in tables},
                       "rows": sum(len(t.rows) for t in tables), "subjects_found": len(keys)}}


def _erase(service: RequestService, row, opened: Opened, *, note) -> dict[str, Any]:
    from tutela.erasure.forget import forget_subject

    identity = opened.primary
    note("erasing the subject's data")
    try:
        result = forget_subject(service.tutela, row.subject_type, identity.kind, identity.value,
                                reason="erasure", tenant=row.tenant, actor=service.actor)
    except NotFound:
        # Nothing held (or already erased): the answer to the subject is that no data remains.
        return {"erasure": {"counts": {}, "receipt": None, "note": "no data of this subject was found"}}
    return {"erasure": {"counts": _plain(result.counts), "receipt": result.receipt,
                        "receipt_path": str(result.receipt_path) if result.receipt_path else None}}


def _rectify(service: RequestService, row, opened: Opened, *, note) -> dict[str, Any]:
    from tutela.requests.rectification import apply_changes

    graph, keys = _graph_and_keys(service, row, opened)
    if not keys:
        raise NotFound("no data of this subject was found to rectify")
    note(f"rectifying {len(opened.changes)} field(s)")
    report = apply_changes(service.tutela, graph, keys, opened.changes, tenant=row.tenant)
    with service.tutela.store.engine.begin() as conn:
        service.tutela.audit.record("request.rectified", actor=service.actor, subject=row.subject_pseudonym,
                                    tenant=row.tenant, connection=conn, request_id=row.id, fields=report)
    return {"rectification": report}


def _restrict(service: RequestService, row, *, kind: str) -> dict[str, Any]:
    from tutela.consent.restrictions import restrict

    record = restrict(service.tutela, row.subject_pseudonym, kind=kind, purpose=row.purpose, tenant=row.tenant,
                      reason=f"{kind} request {row.id}", actor=service.actor)
    return {kind: {"record_id": record, "purpose": row.purpose or "all purposes"}}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
