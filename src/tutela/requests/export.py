"""Access (Art. 15) and portability (Art. 20) exports of one data subject, as a ZIP.

The subject's rows are found through the subject graph (identity columns and foreign keys):
one set-based SELECT per mapped table. The ZIP holds

* ``manifest.json`` — the Art. 15(1) information per table and field: what, from which system,
  when exported, purpose, lawful basis, retention, recipients (with country and transfer
  safeguard), and the subject's other rights;
* ``tables/<system>.<table>.json`` and ``.csv`` — the rows, every column;
* ``engine/consent_history.json``, ``restrictions.json``, ``requests.json``, ``suppression.json``
  — what Tutela itself holds about the subject (keyed by pseudonym).

A portability export holds only the fields the subject provided (``provided_by_subject``) and
that are processed on consent or contract (Art. 20(1)(a)), in the same machine-readable form.
"""

from __future__ import annotations

import base64
import csv
import functools
import io
import json
import shutil
import subprocess
import tempfile
import weakref
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import sqlalchemy as sa

from tutela.errors import ConfigurationError, InvalidInput
from tutela.legal import LawfulBasis
from tutela.subjects.graph import read_connection

if TYPE_CHECKING:
    from tutela.engine import Tutela
    from tutela.subjects import SubjectGraph

#: Art. 20(1)(a): portability covers processing based on consent or on a contract.
PORTABLE_BASES = (LawfulBasis.CONSENT, LawfulBasis.CONTRACT)

RIGHTS_NOTICE = (
    "You may ask for rectification (Art. 16) or erasure (Art. 17) of your data, restriction of its "
    "processing (Art. 18), object to processing (Art. 21), receive the data you provided in a "
    "machine-readable form (Art. 20), withdraw consent at any time (Art. 7(3)), and lodge a complaint "
    "with a supervisory authority (Art. 77)."
)


@dataclass
class TableRows:
    """The subject's rows of one mapped table, with the columns exported."""

    system: str
    table: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.system}.{self.table}"


def collect_rows(tutela: Tutela, graph: SubjectGraph, keys: list[Any], *, tenant: str | None = None,
                 portability: bool = False) -> list[TableRows]:
    """The subject's rows in every mapped table, parents first: one SELECT per table.

    Each table's statement is built once per graph and shape (number of keys, tenant or not) with
    bound parameters, so repeated requests reuse SQLAlchemy's compiled form.
    """
    found: list[TableRows] = []
    nodes = sorted(graph.nodes.values(), key=lambda n: (n.depth, n.system, n.name))
    params = {f"k{i}": key for i, key in enumerate(keys)}
    if tenant is not None:
        params["tenant"] = tenant
    by_system: dict[str, list] = {}
    for node in nodes:
        by_system.setdefault(node.system, []).append(node)
    with graph.identities_read_once():
        for system, system_nodes in by_system.items():
            with read_connection(tutela.system_engine(system)) as conn:
                work = []
                for node in system_nodes:
                    plan = _statement(tutela, graph, node, keys, tenant, portability)
                    if plan is not None:
                        columns, query, bound = plan
                        work.append((node, columns, query, params if bound else {}, bound))
                results = _fetch_all(conn, [(query, values, bound) for *_, query, values, bound in work],
                                     _compiled_plans.setdefault(graph, {}))
                for (node, columns, *_), rows in zip(work, results, strict=True):
                    found.append(TableRows(system, node.name, columns, rows))
    return found


def _fetch_all(conn: sa.Connection, statements: list[tuple[sa.Select, dict, bool]],
               compiled_plans: dict) -> list[list[dict[str, Any]]]:
    """Run the SELECTs (query, parameters, reused across requests) and return their rows as dicts.

    On PostgreSQL (psycopg) they are sent in one pipeline — one network round trip for all tables
    instead of one per table — compiled for the driver once per reused statement (kept in
    ``compiled_plans``) and for each request otherwise.
    """
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg" or len(statements) < 2:
        return [[dict(r._mapping) for r in conn.execute(query, values)] for query, values, _reused in statements]
    raw = conn.connection.driver_connection
    compiled = [_compiled(conn.dialect, query, compiled_plans if reused else None)
                for query, _values, reused in statements]
    with raw.pipeline() as pipeline:
        cursors = [raw.execute(c.string, c.construct_params(values))
                   for c, (_query, values, _reused) in zip(compiled, statements, strict=True)]
        pipeline.sync()
        return [_dicts([d.name for d in cursor.description], cursor.fetchall()) for cursor in cursors]


def _dicts(names: list[str], rows: list[tuple]) -> list[dict[str, Any]]:
    return [dict(zip(names, row, strict=True)) for row in rows]


#: graph → {reused SELECT: its compiled form}; the entries go with the graph
_compiled_plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled(dialect, query: sa.Select, cache: dict | None):
    """The statement compiled for the driver (IN lists rendered); kept in ``cache`` when given."""
    compiled = cache.get(query) if cache is not None else None
    if compiled is None:
        compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        if cache is not None:
            cache[query] = compiled
    return compiled


_plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _statement(tutela: Tutela, graph: SubjectGraph, node, keys: list[Any], tenant: str | None,
               portability: bool) -> tuple[list[str], sa.Select, bool] | None:
    """(columns, SELECT, uses bound parameters) for ``node``; None when portability leaves no column."""
    shape = (node.key, len(keys), tenant is not None, portability)
    cache = _plans.setdefault(graph, {})
    if shape in cache:
        return cache[shape]
    columns = list(node.table.c.keys())
    if portability:
        columns = portable_columns(tutela, node.system, node.name, columns)
        if not columns:
            cache[shape] = None
            return None
    # A table tied by identity columns (itself or through a parent) reads the subject's identities
    # while its statement is built, so that statement is built with the real keys each time.
    bound = bool(keys) and not _tied_by_identity(node)
    if bound:
        query = node.rows_select([sa.bindparam(f"k{i}") for i in range(len(keys))],
                                 sa.bindparam("tenant") if tenant is not None else None)
    else:
        query = node.rows_select(keys, tenant)
    if portability:
        query = query.with_only_columns(*[node.table.c[c] for c in columns])
    pk = list(node.table.primary_key.columns)
    if pk:
        query = query.order_by(*pk)
    if bound:
        cache[shape] = (columns, query, True)
    return columns, query, bound


def _tied_by_identity(node) -> bool:
    while node is not None:
        if node.identity_columns:
            return True
        node = node.parent
    return False


def portable_columns(tutela: Tutela, system: str, table: str, columns: list[str]) -> list[str]:
    """The declared fields of a table that Art. 20 covers: provided by the subject, consent/contract."""
    policy = tutela.policy
    decl = policy.systems[system].tables[table]
    keep = []
    for name in columns:
        personal = decl.fields.get(name)
        if personal is None or not personal.provided_by_subject:
            continue
        if policy.field_basis(decl, personal) in PORTABLE_BASES:
            keep.append(name)
    return keep


def manifest(tutela: Tutela, tables: list[TableRows], *, request: dict[str, Any], portability: bool,
             generated_at: datetime) -> dict[str, Any]:
    """The Art. 15(1) information for the exported tables (no personal values)."""
    policy = tutela.policy
    entries = []
    for rows in tables:
        decl = policy.systems[rows.system].tables[rows.table]
        system = policy.systems[rows.system]
        fields = {}
        for column in rows.columns:
            personal = decl.fields.get(column)
            if personal is None:
                fields[column] = {"declared": False}
                continue
            purpose = policy.field_purpose(decl, personal)
            basis = policy.field_basis(decl, personal)
            fields[column] = {
                "declared": True,
                "category": personal.category,
                "special_category": personal.special.value if personal.special else None,
                "purpose": purpose,
                "purpose_description": policy.purposes[purpose].description if purpose in policy.purposes else None,
                "lawful_basis": basis.value if basis else None,
                "lawful_basis_article": basis.article if basis else None,
                "retention": personal.retention or (str(decl.retention.after) if decl.retention else None),
                "recipients": [_recipient(policy, name) for name in personal.recipients],
                "provided_by_subject": personal.provided_by_subject,
                "description": personal.description or None,
            }
        entries.append({
            "system": rows.system,
            "table": rows.table,
            "source": system.description or f"the application's database '{rows.system}'",
            "description": decl.description or None,
            "rows": len(rows.rows),
            "files": [f"tables/{rows.name}.json", f"tables/{rows.name}.csv"],
            "retention": str(decl.retention.after) + f" after {decl.retention.from_}" if decl.retention else None,
            "fields": fields,
        })
    controller = policy.controller
    return {
        "format": "tutela-export/1",
        "kind": "portability" if portability else "access",
        "article": "Art. 20" if portability else "Art. 15",
        "generated_at": generated_at.replace(tzinfo=UTC).isoformat(),
        "controller": {"name": controller.name, "contact": controller.contact,
                       "dpo": controller.dpo.model_dump(exclude_none=True) if controller.dpo else None},
        "request": request,
        "tables": entries,
        "engine_records": ["engine/consent_history.json", "engine/restrictions.json", "engine/requests.json",
                           "engine/suppression.json"],
        "automated_decisions": "none (Art. 22)",
        "your_rights": RIGHTS_NOTICE,
    }


#: ZIP members smaller than this many bytes are stored, not deflated: setting up a compressor
#: costs more than the whole member (an export of a typical subject is a dozen small files)
STORE_BELOW = 4096


def build_zip(tutela: Tutela, tables: list[TableRows], engine_records: dict[str, Any], *,
              request: dict[str, Any], portability: bool, generated_at: datetime) -> bytes:
    """The export ZIP (manifest, one JSON and one CSV per table, engine records) as bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        doc = manifest(tutela, tables, request=request, portability=portability, generated_at=generated_at)
        _add(archive, "manifest.json", _dumps(doc, pretty=True))
        for rows in tables:
            _add(archive, f"tables/{rows.name}.json", _dumps(rows.rows))
            _add(archive, f"tables/{rows.name}.csv", _csv(rows))
        for name, records in engine_records.items():
            _add(archive, f"engine/{name}.json", _dumps(records))
    return buffer.getvalue()


def _add(archive: zipfile.ZipFile, name: str, text: str) -> None:
    data = text.encode("utf-8")
    archive.writestr(name, data, compress_type=zipfile.ZIP_STORED if len(data) < STORE_BELOW else None)


def engine_records(tutela: Tutela, subject_key: str, tenant: str | None,
                   identities: list[tuple[str, str]]) -> dict[str, Any]:
    """What Tutela's own store holds about the subject: consent history, restrictions and
    objections, requests, and suppression entries (matched by the identities' keyed hashes
    under every known key, so entries made before a key rotation are found too).

    The four SELECTs run on one store connection, each built once per process (see
    :func:`_store_reads`); the entries are the ones ``consent_history``, ``restriction_history``
    and ``entries_for`` return.
    """
    from tutela.consent.ledger import history_entry
    from tutela.consent.restrictions import restriction_entry
    from tutela.crypto.hashing import keyed_hashes

    hashes = sorted({h for kind, value in identities for h in keyed_hashes(tutela.keyring, kind, value)})
    reads = _store_reads(tenant is not None)
    params = {"keys": [subject_key], "key": subject_key, "tenant": tenant}
    with tutela.store.engine.connect() as conn:
        consent = conn.execute(reads["consent_history"], params).all()
        restricted = conn.execute(reads["restrictions"], params).all()
        requested = conn.execute(reads["requests"], params).all()
        suppressed = conn.execute(reads["suppression"], {"hashes": hashes}).all() if hashes else []
    return {
        "consent_history": [_jsonable_row(history_entry(row)) for row in consent],
        "restrictions": [_jsonable_row(restriction_entry(r)) for r in restricted],
        "requests": [_jsonable_row(dict(r._mapping)) for r in requested],
        "suppression": [_jsonable_row(dict(r._mapping)) for r in suppressed],
    }


@functools.cache
def _store_reads(by_tenant: bool) -> dict[str, sa.Select]:
    """The engine-store SELECTs of :func:`engine_records`, with bound parameters.

    Built once: a statement object that is reused skips SQLAlchemy's construction and cache-key
    work, which cost more than the SQLite query itself.
    """
    from tutela.consent.tables import ledger, restrictions
    from tutela.erasure.tables import entries_select, suppression
    from tutela.requests.tables import requests

    keys = sa.bindparam("keys", expanding=True)
    reads = {
        "consent_history": sa.select(ledger).where(ledger.c.subject_key.in_(keys))
        .order_by(ledger.c.at, ledger.c.id),
        "restrictions": sa.select(restrictions).where(restrictions.c.subject_key.in_(keys))
        .order_by(restrictions.c.at, restrictions.c.id),
        "requests": sa.select(requests.c.id, requests.c.type, requests.c.status, requests.c.received_at,
                              requests.c.legal_due, requests.c.completed_at, requests.c.tenant)
        .where(requests.c.subject_pseudonym == sa.bindparam("key")).order_by(requests.c.received_at),
    }
    if by_tenant:
        tables = {"consent_history": ledger, "restrictions": restrictions, "requests": requests}
        reads = {name: query.where(tables[name].c.tenant == sa.bindparam("tenant")) for name, query in reads.items()}
    reads["suppression"] = entries_select().where(
        suppression.c.hash.in_(sa.bindparam("hashes", expanding=True))).order_by("created_at", suppression.c.hash)
    return reads


def encrypt_to_key(data: bytes, key_file: Path) -> bytes:
    """``data`` as a binary OpenPGP message to the public key in ``key_file`` (seed 003).

    Uses the ``gpg`` binary through python-gnupg with a throwaway GNUPGHOME, so the operator's own
    keyring is neither read nor changed.
    """
    import gnupg

    if shutil.which("gpg") is None:
        raise ConfigurationError("the gpg program is not installed; it is needed for --encrypt-to")
    try:
        key_data = key_file.read_bytes()
    except OSError:
        raise InvalidInput(f"cannot read the key file {key_file}") from None
    with tempfile.TemporaryDirectory(prefix="tutela-gpg-") as home:
        gpg = gnupg.GPG(gnupghome=home)
        imported = gpg.import_keys(key_data)
        fingerprints = [f for f in imported.fingerprints if f]
        if not fingerprints:
            raise InvalidInput(f"{key_file} holds no OpenPGP public key")
        result = gpg.encrypt(data, fingerprints, always_trust=True, armor=False)
        _stop_agent(home)
        if not result.ok:
            raise InvalidInput(f"cannot encrypt to the key in {key_file}: {result.status}")
        return result.data


def _stop_agent(home: str) -> None:
    # gpg may start an agent for the temporary home; stop it so nothing lingers.
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True, check=False)


def _recipient(policy, name: str) -> dict[str, Any]:
    recipient = policy.recipients.get(name)
    if recipient is None:
        return {"name": name}
    return {"name": name, "purpose": recipient.purpose, "country": recipient.country,
            "transfer_mechanism": recipient.transfer_mechanism}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "base64:" + base64.b64encode(bytes(value)).decode()
    return value


def _jsonable_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in row.items()}


def _dumps(value: Any, *, pretty: bool = False) -> str:
    if pretty:
        return json.dumps(value, default=_jsonable, indent=2, ensure_ascii=False)
    return json.dumps(value, default=_jsonable, separators=(",", ":"), ensure_ascii=False)


def _csv(rows: TableRows) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=rows.columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows.rows:
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    value = _jsonable(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value
