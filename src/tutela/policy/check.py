"""`tutela check` (R2): compare the policy with the live schema of every system.

Errors (the policy names what the database does not have, or an action that cannot apply to its
column) fail the check; warnings point at undeclared columns that look personal and at identity or
foreign-key columns without an index. Names from the policy are only ever compared with reflected
names here — nothing from the policy reaches SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from tutela.errors import ConfigurationError, PolicyProblem
from tutela.policy.model import Path, Policy, Table

#: Column-name patterns that suggest personal data, with the fideslang category guessed.
PERSONAL_NAME_HINTS: tuple[tuple[str, str], ...] = (
    (r"e_?mail", "user.contact.email"),
    (r"phone|mobile|msisdn|^tel(ephone)?$|fax", "user.contact.phone_number"),
    (r"first_?name|given_?name|forename", "user.name.first"),
    (r"last_?name|surname|family_?name", "user.name.last"),
    (r"^(full_?)?name$|display_?name|contact_?name", "user.name"),
    (r"street|address|addr_?line", "user.contact.address.street"),
    (r"^city$|town", "user.contact.address.city"),
    (r"zip|post_?code|postal", "user.contact.address.postal_code"),
    (r"(^|_)ip(_?addr(ess)?)?$|remote_addr", "user.device.ip_address"),
    (r"user_?agent", "user.device"),
    (r"birth|^dob$", "user.demographic.date_of_birth"),
    (r"gender|^sex$", "user.demographic.gender"),
    (r"iban|bank_?account|account_?number", "user.financial.bank_account"),
    (r"card_?(number|no)|^pan$|credit_?card", "user.financial.credit_card"),
    (r"ssn|national_?id|tax_?(id|code|number)|codice_?fiscale|personal_?id",
     "user.government_id.national_identification_number"),
    (r"passport", "user.government_id.passport_number"),
    (r"lat(itude)?$|lon(gitude)?$|^lng$|geo", "user.location.precise"),
    (r"password|passwd", "user.authorization.password"),
    (r"username|login", "user.account.username"),
    (r"health|diagnos|medical", "user.health"),
)


def guess_category(column_name: str) -> str | None:
    """The fideslang category a column name suggests, or None."""
    name = column_name.lower()
    for pattern, category in PERSONAL_NAME_HINTS:
        if re.search(pattern, name):
            return category
    return None


@dataclass
class CheckReport:
    """What `tutela check` found: errors fail the check, warnings inform."""

    errors: list[PolicyProblem] = field(default_factory=list)
    warnings: list[PolicyProblem] = field(default_factory=list)
    systems_checked: list[str] = field(default_factory=list)
    tables_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        def rows(items):
            return [{"file": p.file, "line": p.line, "message": p.message} for p in items]

        return {"ok": self.ok, "systems": self.systems_checked, "tables": self.tables_checked,
                "errors": rows(self.errors), "warnings": rows(self.warnings)}


def _area_checks() -> list[Callable[[object, CheckReport], None]]:
    """Checks that belong to other areas but read the same live schema: fn(tutela, report)."""
    from tutela.retention.rules import check_rules  # imported here: retention imports the policy

    return [check_rules]


def check_policy(tutela, systems: list[str] | None = None) -> CheckReport:
    """Reflect every system (or the named ones) and compare it with the policy."""
    policy: Policy = tutela.policy
    report = CheckReport()
    for system_name in systems or list(policy.systems):
        try:
            metadata = tutela.schema(system_name, refresh=True)
        except ConfigurationError as exc:
            report.errors.append(policy.problem(("systems", system_name, "url"), exc.message))
            continue
        report.systems_checked.append(system_name)
        _check_system(policy, system_name, metadata, report)
    for area_check in _area_checks():
        area_check(tutela, report)
    return report


def _check_system(policy: Policy, system_name: str, metadata: sa.MetaData, report: CheckReport) -> None:
    system = policy.systems[system_name]
    for table_name, table in system.tables.items():
        here: Path = ("systems", system_name, "tables", table_name)
        live = metadata.tables.get(table_name)
        if live is None:
            report.errors.append(policy.problem(here, f"table '{table_name}' does not exist in system "
                                                f"'{system_name}'"))
            continue
        report.tables_checked += 1
        _check_table(policy, system_name, table_name, table, live, metadata, report)
    declared = set(system.tables)
    for live in metadata.sorted_tables:
        if live.name in declared or live.name.startswith(("alembic_", "tutela_")):
            continue
        hints = [(c.name, guess_category(c.name)) for c in live.columns if guess_category(c.name)]
        if hints:
            cols = ", ".join(f"{name} ({category}?)" for name, category in hints)
            report.warnings.append(policy.problem(("systems", system_name, "tables"),
                                                  f"table '{live.name}' is not declared but has columns that "
                                                  f"look personal: {cols}"))


def _check_table(policy: Policy, system_name: str, table_name: str, table: Table, live: sa.Table,
                 metadata: sa.MetaData, report: CheckReport) -> None:
    here: Path = ("systems", system_name, "tables", table_name)
    columns = live.c

    def need(path: Path, column: str | None, what: str) -> bool:
        if column is None:
            return False
        if column not in columns:
            report.errors.append(policy.problem(path, f"{what} '{column}' does not exist in table "
                                                f"'{table_name}'"))
            return False
        return True

    for field_name, personal in table.fields.items():
        fpath = here + ("fields", field_name)
        if need(fpath, field_name, "column"):
            action = policy.field_action(table, personal)
            try:
                action.validate_column(columns[field_name])
            except ValueError as exc:
                report.errors.append(policy.problem(fpath + ("on_erasure",), str(exc)))
    for kind, column in table.identity.items():
        if need(here + ("identity", kind), column, "identity column"):
            _want_index(policy, live, column, here + ("identity", kind), "identity", report)
    tenant = policy.tenant_column(system_name, table_name)
    if table.tenant_column:
        need(here + ("tenant_column",), tenant, "tenant column")
    if table.parent is not None:
        _check_parent(policy, here, table_name, table, live, metadata, report)
    for name, subject in policy.subjects.items():
        if (subject.system, subject.table) == (system_name, table_name):
            spath: Path = ("subjects", name)
            need(spath + ("key",), subject.key, "subject key column")
            for kind, column in subject.identities.items():
                if need(spath + ("identities", kind), column, "identity column"):
                    _want_index(policy, live, column, spath + ("identities", kind), "identity", report)
    if table.retention is not None:
        need(here + ("retention", "from"), table.retention.from_, "retention 'from' column")
    declared = set(table.fields) | set(table.identity.values())
    for column in live.columns:
        if column.name in declared or column.primary_key or column.foreign_keys:
            continue
        category = guess_category(column.name)
        if category:
            report.warnings.append(policy.problem(here + ("fields",), f"column '{column.name}' looks "
                                                  f"personal ({category}?) but is not declared"))


def _check_parent(policy: Policy, here: Path, table_name: str, table: Table, live: sa.Table,
                  metadata: sa.MetaData, report: CheckReport) -> None:
    link = table.parent
    parent = metadata.tables.get(link.table)
    if parent is None:
        return  # reported where the parent table itself is checked
    column, references = link.column, link.references
    if column is None:
        fks = [fk for fk in live.foreign_keys if fk.column.table.name == link.table]
        if not fks:
            report.errors.append(policy.problem(here + ("parent",), f"table '{table_name}' has no foreign key "
                                                f"to '{link.table}'; declare it as parent: {{table: "
                                                f"{link.table}, column: <column>, references: <column>}}"))
            return
        if len(fks) > 1:
            names = ", ".join(sorted(fk.parent.name for fk in fks))
            report.errors.append(policy.problem(here + ("parent",), f"table '{table_name}' has several foreign "
                                                f"keys to '{link.table}' ({names}); name the column"))
            return
        column, references = fks[0].parent.name, fks[0].column.name
    if column not in live.c:
        report.errors.append(policy.problem(here + ("parent", "column"), f"column '{column}' does not exist "
                                            f"in table '{table_name}'"))
        return
    references = references or _primary_key(parent)
    if references not in parent.c:
        report.errors.append(policy.problem(here + ("parent", "references"), f"column '{references}' does "
                                            f"not exist in table '{link.table}'"))
        return
    _want_index(policy, live, column, here + ("parent",), "foreign-key", report)


def _primary_key(table: sa.Table) -> str | None:
    keys = list(table.primary_key.columns)
    return keys[0].name if len(keys) == 1 else None


def _want_index(policy: Policy, live: sa.Table, column: str, path: Path, what: str,
                report: CheckReport) -> None:
    """Warn when ``column`` leads no index (requests on that subject would scan the table)."""
    if any(c.name == column for c in list(live.primary_key.columns)[:1]):
        return
    leading = {list(index.columns)[0].name for index in live.indexes if index.columns}
    unique_leading = {list(c.columns)[0].name for c in live.constraints
                      if isinstance(c, sa.UniqueConstraint) and c.columns}
    if column not in leading | unique_leading:
        report.warnings.append(policy.problem(path, f"{what} column '{live.name}.{column}' has no index; "
                                              "finding a subject's rows will scan the whole table"))

