"""The graph of tables that hold one kind of data subject's data.

The subject table (``subjects.<name>.table``) is the root: each of its rows is one subject, known
by its key column. Every other table is tied to it either through ``parent`` links (a foreign-key
path of any depth: answers → bookings → end_users) or through an ``identity`` column that holds
one of the subject's identifiers (logs keyed by e-mail). A table without ``subject`` that has a
``parent`` inherits its parent's subject.

For a set of subject keys, each node gives ONE set-based filter over indexed columns: the root
filters on its key, a child on ``fk IN (SELECT referenced FROM parent WHERE <parent filter>)``,
an identity table on ``column IN (<the subjects' identifiers in every stored form>)``, read once
from the root (which may live in another system).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tutela.crypto.hashing import is_keyed_hash
from tutela.errors import InvalidInput, NotFound, SchemaMismatch
from tutela.policy.model import Table as PolicyTable
from tutela.subjects.identities import identity_variants, normalised

#: the pseudo identity kind that names a subject by its key
SUBJECT_ID = "subject_id"

#: (graph id, kind, keys) → identity forms, inside :meth:`SubjectGraph.identities_read_once`
_identity_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("tutela_identity_memo", default=None)

#: isolation levels at which every statement of a transaction reads its own snapshot
_SNAPSHOT_PER_STATEMENT = ("READ COMMITTED", "READ UNCOMMITTED")


def read_connection(engine: sa.Engine) -> sa.Connection:
    """A connection for a run of SELECTs that changes nothing.

    On PostgreSQL at READ COMMITTED (its default) the connection is in autocommit: inside a
    transaction each statement would read its own snapshot all the same, and the driver's BEGIN
    and the pool's ROLLBACK on return — two network round trips per checkout — are not sent.
    Elsewhere, and at a stricter isolation level, it is an ordinary connection.
    """
    conn = engine.connect()
    dialect = engine.dialect
    if dialect.name == "postgresql":
        level = getattr(dialect, "_on_connect_isolation_level", None) or \
            getattr(dialect, "default_isolation_level", None)
        if level in _SNAPSHOT_PER_STATEMENT:
            conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


@dataclass
class SubjectNode:
    """One table that holds a subject's rows, and how to find those rows."""

    graph: SubjectGraph
    system: str
    name: str
    table: sa.Table
    declaration: PolicyTable
    depth: int
    parent: SubjectNode | None = None
    #: column here → column in ``parent`` (set when tied by a parent link)
    parent_column: str | None = None
    parent_references: str | None = None
    #: identity kind → column here that holds it (identity links to the root)
    identity_columns: dict[str, str] = field(default_factory=dict)
    tenant_column: str | None = None

    @property
    def is_root(self) -> bool:
        return self.parent is None and not self.identity_columns

    @property
    def key(self) -> str:
        """``system.table``, unique across the graph."""
        return f"{self.system}.{self.name}"

    def row_filter(self, keys: Sequence[Any], tenant: str | None = None, *,
                   shared: dict | None = None) -> sa.ColumnElement[bool]:
        """A WHERE clause over this table selecting the rows of the subjects ``keys``.

        Usable in SELECT, UPDATE and DELETE on this table; one statement, no per-row work.
        ``shared``: one dict for every filter of the same subjects (see :meth:`SubjectGraph.row_filters`),
        so that a parent's filter and subquery are built once for all its children.
        """
        if shared is not None and self.key in shared:
            return shared[self.key]
        keys = list(keys)
        if not keys:
            return sa.false()
        if self.is_root:
            clause = self.table.c[self.graph.key_column].in_(keys)
        else:
            parts = []
            if self.parent is not None:
                parts.append(self.table.c[self.parent_column].in_(self.parent._referenced_rows(
                    self.parent_references, keys, tenant, shared)))
            for kind, column in self.identity_columns.items():
                parts.append(self.table.c[column].in_(self.graph.identity_source(self, kind, keys)))
            clause = sa.or_(*parts) if len(parts) > 1 else parts[0]
        if tenant is not None and self.tenant_column:
            clause = sa.and_(clause, self.table.c[self.tenant_column] == tenant)
        if shared is not None:
            shared[self.key] = clause
        return clause

    def _referenced_rows(self, column: str, keys: list[Any], tenant: str | None, shared: dict | None) -> sa.Select:
        """SELECT ``column`` of this table's rows of the subjects: what a child's link points at."""
        memo_key = (self.key, column)
        if shared is not None and memo_key in shared:
            return shared[memo_key]
        rows = sa.select(self.table.c[column]).where(self.row_filter(keys, tenant, shared=shared))
        if shared is not None:
            shared[memo_key] = rows
        return rows

    def rows_select(self, keys: Sequence[Any], tenant: str | None = None) -> sa.Select:
        """All columns of this table's rows that belong to the subjects ``keys`` (one statement)."""
        return sa.select(self.table).where(self.row_filter(keys, tenant))

    def __repr__(self) -> str:
        return f"<SubjectNode {self.key} depth={self.depth}>"


class SubjectGraph:
    """Every table holding data of one kind of subject, built from the policy and reflected FKs."""

    def __init__(self, tutela, subject_name: str):
        self.tutela = tutela
        self.subject_name = subject_name
        self.subject = tutela.policy.subjects[subject_name]
        self.nodes: dict[str, SubjectNode] = {}
        self.root: SubjectNode | None = None
        #: the resolving SELECTs by shape, built once with bound parameters (see :meth:`_match`)
        self._matches: dict[tuple, sa.Select] = {}
        #: (system, reflected schema) the graph was built from
        self._schemas: tuple[tuple[str, sa.MetaData], ...] = ()

    @property
    def key_column(self) -> str:
        return self.subject.key

    # --- construction ----------------------------------------------------------------------
    @classmethod
    def build(cls, tutela, subject_name: str) -> SubjectGraph:
        """Build and validate the graph; :class:`NotFound` / :class:`SchemaMismatch` on problems."""
        policy = tutela.policy
        if subject_name not in policy.subjects:
            known = ", ".join(sorted(policy.subjects)) or "none"
            raise NotFound(f"subject '{subject_name}' is not declared in the policy (declared: {known})")
        graph = cls(tutela, subject_name)
        subject = graph.subject
        root_table = tutela.table(subject.system, subject.table)
        graph._need(root_table, subject.key, "subject key column")
        for kind, column in subject.identities.items():
            graph._need(root_table, column, f"'{kind}' identity column")
        graph.root = graph._add(subject.system, subject.table, root_table, depth=0)
        for system_name, table_name, _decl in policy.iter_tables():
            graph._node_for(system_name, table_name, trail=())
        graph._schemas = tuple((system, tutela.schema(system)) for system in graph.systems())
        return graph

    @classmethod
    def cached(cls, tutela, subject_name: str) -> SubjectGraph:
        """The graph of ``subject_name``, built once per engine and reused for as long as the
        engine's reflected schemas are the ones it was built from (``tutela.schema(…, refresh=True)``
        gets a new one). Its statements, built once, are reused with it."""
        # Kept on the engine object, so that the graphs (which refer to it) go with it.
        graphs = vars(tutela).setdefault("_subject_graphs", {})
        graph = graphs.get(subject_name)
        if graph is None or any(tutela.schema(system) is not schema for system, schema in graph._schemas):
            graph = graphs[subject_name] = cls.build(tutela, subject_name)
        return graph

    def _node_for(self, system: str, name: str, trail: tuple[str, ...]) -> SubjectNode | None:
        """The node of a table, creating it (and its parent chain) if it belongs to this subject."""
        key = f"{system}.{name}"
        if key in self.nodes:
            return self.nodes[key]
        if key in trail:
            return None  # a cycle; the policy loader reports it
        decl = self.tutela.policy.systems[system].tables[name]
        parent_node = None
        if decl.parent is not None:
            parent_node = self._node_for(system, decl.parent.table, trail + (key,))
        belongs = decl.subject == self.subject_name or (decl.subject is None and parent_node is not None)
        if not belongs:
            return None
        table = self.tutela.table(system, name)
        identity = {kind: column for kind, column in decl.identity.items() if kind in self.subject.identities}
        for kind, column in identity.items():
            self._need(table, column, f"'{kind}' identity column")
        if parent_node is None and not identity:
            return None  # tied to nothing; `tutela check` reports it
        node = self._add(system, name, table, depth=(parent_node.depth + 1) if parent_node else 1)
        node.identity_columns = identity
        if parent_node is not None:
            node.parent = parent_node
            node.parent_column, node.parent_references = self._parent_columns(node, parent_node)
        return node

    def _add(self, system: str, name: str, table: sa.Table, depth: int) -> SubjectNode:
        decl = self.tutela.policy.systems[system].tables[name]
        tenant = self.tutela.policy.tenant_column(system, name)
        node = SubjectNode(self, system, name, table, decl, depth,
                           tenant_column=tenant if tenant and tenant in table.c else None)
        self.nodes[node.key] = node
        return node

    def _parent_columns(self, node: SubjectNode, parent: SubjectNode) -> tuple[str, str]:
        link = node.declaration.parent
        column, references = link.column, link.references
        if column is None:
            fks = [fk for fk in node.table.foreign_keys if fk.column.table.name == parent.name]
            if len(fks) != 1:
                how = "no foreign key" if not fks else "several foreign keys"
                raise SchemaMismatch(f"table '{node.name}' has {how} to its parent '{parent.name}'; name the "
                                     f"column in the policy: parent: {{table: {parent.name}, column: <column>}}")
            column, references = fks[0].parent.name, fks[0].column.name
        if references is None:
            pk = list(parent.table.primary_key.columns)
            if len(pk) != 1:
                raise SchemaMismatch(f"parent table '{parent.name}' has no single-column primary key; "
                                     f"name the referenced column: parent: {{table: {parent.name}, "
                                     f"column: {column}, references: <column>}}")
            references = pk[0].name
        self._need(node.table, column, "parent link column")
        self._need(parent.table, references, "referenced column")
        return column, references

    @staticmethod
    def _need(table: sa.Table, column: str, what: str) -> None:
        if column not in table.c:
            raise SchemaMismatch(f"{what} '{column}' does not exist in table '{table.name}' (run `tutela check`)")

    # --- queries -----------------------------------------------------------------------------
    def nodes_children_first(self) -> list[SubjectNode]:
        """Every node, deepest first, so rows are changed before the rows they reference."""
        return sorted(self.nodes.values(), key=lambda n: (-n.depth, n.system, n.name))

    def row_filters(self, keys: Sequence[Any], tenant: str | None = None) -> dict[str, sa.ColumnElement[bool]]:
        """Every node's :meth:`SubjectNode.row_filter` for the subjects ``keys``, by node key; each
        filter and subquery is built once and shared by the children that need it."""
        shared: dict = {}
        return {node.key: node.row_filter(keys, tenant, shared=shared) for node in self.nodes.values()}

    def systems(self) -> list[str]:
        """The systems that hold this subject's data, the root's system first."""
        names = [self.subject.system] + [n.system for n in self.nodes.values()]
        return list(dict.fromkeys(names))

    def identity_source(self, node: SubjectNode, kind: str, keys: Sequence[Any]) -> list[str]:
        """The values an identity column of ``node`` is matched against for subjects ``keys``.

        The root's identifiers are read once and expanded to every stored form (as stored,
        normalised, keyed hashes under every key, MD5), so a log line that holds the address in
        another case, or already pseudonymised, is still found — over the column's index.
        """
        memo = _identity_memo.get()
        memo_key = (id(self), kind, tuple(keys))
        if memo is not None and memo_key in memo:
            return memo[memo_key]
        root = self.root
        column = root.table.c[self.subject.identities[kind]]
        select = sa.select(column).where(root.table.c[self.key_column].in_(list(keys)))
        with read_connection(self.tutela.system_engine(root.system)) as conn:
            stored = [v for v in conn.execute(select).scalars() if v is not None]
        forms: list[str] = []
        for value in stored:
            forms.append(value)
            if not is_keyed_hash(value):
                try:
                    forms += identity_variants(self.tutela.keyring, kind, value)
                except InvalidInput:
                    pass  # a malformed stored value can only match as it is
        forms = list(dict.fromkeys(forms))
        if memo is not None:
            memo[memo_key] = forms
        return forms

    @contextlib.contextmanager
    def identities_read_once(self) -> Iterator[None]:
        """Within the block (in this thread or task), :meth:`identity_source` reads the subjects'
        stored identifiers once rather than once per identity-tied table: it answers the same
        for every table of one run."""
        if _identity_memo.get() is not None:
            yield
            return
        token = _identity_memo.set({})
        try:
            yield
        finally:
            _identity_memo.reset(token)

    def resolve(self, kind: str, value: str, tenant: str | None = None) -> list[Any]:
        """The keys of the subjects identified by ``value`` of ``kind`` (empty list if none).

        ``kind`` is one of the subject's identities (email, phone …) or ``subject_id``. The value is
        matched as given, normalised and as its keyed hashes, so a pseudonymised subject is found too.
        Malformed identifiers raise :class:`InvalidInput`.
        """
        return [row[0] for row in self._match(kind, value, tenant, ())]

    def resolve_with_identities(self, kind: str, value: str, tenant: str | None = None
                                ) -> tuple[list[Any], list[tuple[str, Any]]]:
        """Like :meth:`resolve`, with the identifiers stored on the subjects' root rows.

        Returns (keys, [(identity kind, stored value), …]) — NULLs left out, in key order — read by
        the same SELECT that finds the keys.
        """
        kinds = list(self.subject.identities)
        rows = self._match(kind, value, tenant, [self.subject.identities[k] for k in kinds])
        stored = [(k, v) for row in rows for k, v in zip(kinds, row[1:], strict=True) if v is not None]
        return [row[0] for row in rows], stored

    def _match(self, kind: str, value: str, tenant: str | None, columns: Sequence[str]) -> list[sa.Row]:
        """Rows (key, *columns) of the root table for the subjects identified by ``value``."""
        if kind == SUBJECT_ID:
            how, params = "key", {"value": _coerce(self.root.table.c[self.key_column], value)}
        elif kind not in self.subject.identities:
            known = ", ".join([*self.subject.identities, SUBJECT_ID])
            raise InvalidInput(f"subject '{self.subject_name}' is not identified by '{kind}' (use: {known})")
        else:
            how, params = "forms", {"forms": identity_variants(self.tutela.keyring, kind, value)}
        scoped = tenant is not None and self.root.tenant_column is not None
        if scoped:
            params["tenant"] = tenant
        with read_connection(self.tutela.system_engine(self.root.system)) as conn:
            found = conn.execute(self._match_statement(how, kind, scoped, tuple(columns)), params).all()
            if not found and kind == "email":
                # Stored in another case than asked ("Alice@Example.org"): a scan, only when the
                # indexed match found nothing.
                params = {**params, "value": normalised(kind, value)}
                found = conn.execute(self._match_statement("folded", kind, scoped, tuple(columns)), params).all()
        return found

    def _match_statement(self, how: str, kind: str, scoped: bool, columns: tuple[str, ...]) -> sa.Select:
        """SELECT key, *columns of the root's rows whose key (``how`` = "key") or identity column
        (``forms``: any stored form; ``folded``: trimmed and lower-cased) equals the bound value.

        Built once per shape: SQLAlchemy then reuses its compiled form without rebuilding the
        statement and its cache key for every request.
        """
        shape = (how, kind, scoped, columns)
        statement = self._matches.get(shape)
        if statement is None:
            table = self.root.table
            key = table.c[self.key_column]
            if how == "key":
                where = key == sa.bindparam("value")
            else:
                column = table.c[self.subject.identities[kind]]
                where = column.in_(sa.bindparam("forms", expanding=True)) if how == "forms" else \
                    sa.func.lower(sa.func.trim(column)) == sa.bindparam("value", type_=column.type)
            if scoped:
                where = sa.and_(where, table.c[self.root.tenant_column] == sa.bindparam("tenant"))
            statement = sa.select(key, *(table.c[c] for c in columns)).where(where).order_by(key)
            self._matches[shape] = statement
        return statement


def _coerce(column: sa.Column, value: Any) -> Any:
    """A subject id given as text, converted to the key column's type (InvalidInput if it does not fit)."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is int and not isinstance(value, int):
        try:
            return int(str(value).strip())
        except ValueError:
            raise InvalidInput("a subject id must be a whole number for this subject") from None
    return value
