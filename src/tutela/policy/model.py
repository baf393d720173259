"""The policy (the data map) as a typed, validated model.

A policy declares the controller, the engine store and keyring, purposes with their lawful basis,
recipients (sub-processors), data subjects and how to identify them, and per system the tables
that hold personal data: which subject each row belongs to (directly, by an identity column or
through a parent table), and per personal field its category, purpose, basis, retention, the
action on erasure and the recipients that receive it.

Cross-references (purposes, recipients, subjects, parents) are checked in :meth:`Policy.problems`,
which returns every problem with its path so the loader can point at file:line.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from tutela.actions import FieldAction, parse_action
from tutela.durations import Duration
from tutela.legal import LawfulBasis, SpecialCategory
from tutela.policy.conditions import Condition
from tutela.policy.taxonomy import closest_categories, fideslang_categories

Path = tuple[str | int, ...]

_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, arbitrary_types_allowed=True)


class Person(Strict):
    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None


class Controller(Strict):
    name: str
    contact: str
    dpo: Person | None = None
    representative: Person | None = None


class SmtpSettings(Strict):
    """Outgoing mail for verification codes and notices. Secrets may be ``env:VAR``."""

    host: str = "127.0.0.1"
    port: int = 25
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password: str | None = None
    sender: str = "privacy@localhost"
    timeout_seconds: float = 10.0


class EngineSettings(Strict):
    """Where Tutela keeps its own state. Relative paths are taken from the policy file's folder."""

    store: str = "sqlite:///tutela-store.db"
    keyring: str = "tutela.key"
    request_sla: Duration = Field(default_factory=lambda: Duration.parse("14d"))
    breach_customer_sla: Duration = Field(default_factory=lambda: Duration.parse("24h"))
    smtp: SmtpSettings | None = None
    batch_size: int = Field(default=5000, ge=1, le=1_000_000)
    digital_consent_ages: dict[str, int] = Field(default_factory=dict)

    @field_validator("request_sla", "breach_customer_sla", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Duration:
        return value if isinstance(value, Duration) else Duration.parse(value)

    @field_validator("digital_consent_ages")
    @classmethod
    def _ages(cls, value: dict[str, int]) -> dict[str, int]:
        for country, age in value.items():
            if not 13 <= age <= 16:
                raise ValueError(f"Art. 8(1) allows ages 13 to 16 only; {country} has {age}")
        return {k.upper(): v for k, v in value.items()}


class Recipient(Strict):
    """A sub-processor or other recipient of personal data (Art. 28, Art. 30(1)(d))."""

    purpose: str
    country: str = Field(description="ISO 3166-1 alpha-2 code of where data is processed")
    transfer_mechanism: str | None = Field(
        default=None, description="Art. 46 safeguard for third countries: SCC, adequacy, BCR …"
    )
    dpa_date: date | None = None
    last_review: date | None = None
    contact: str | None = None

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if len(value) != 2 or not value.isalpha():
            raise ValueError(f"'{value}' is not a two-letter country code (ISO 3166-1)")
        return value.upper()


class Purpose(Strict):
    description: str
    basis: LawfulBasis
    #: consent purposes only: may the consent be bundled with others, or must it be separate.
    consent: Literal["separate", "bundled"] = "separate"
    direct_marketing: bool = False
    #: Art. 6(1)(f): the legitimate interest pursued, told in the notice and the record.
    legitimate_interest: str | None = None


class Subject(Strict):
    """A kind of data subject and the table whose rows each stand for one of them."""

    description: str = ""
    system: str
    table: str
    key: str = "id"
    #: identity kind (email, phone, …) → column in the subject table
    identities: dict[str, str] = Field(min_length=1)


class ParentLink(Strict):
    """How a table's rows reach their owner: ``column`` here references ``references`` in ``table``."""

    table: str
    column: str | None = None  # None: taken from the reflected foreign key
    references: str | None = None


class RetentionRule(Strict):
    """Storage limitation (Art. 5(1)(e)): what happens to rows once they are older than ``after``."""

    after: Duration
    from_: str = Field(alias="from")
    where: Condition | None = None
    action: Literal["delete_rows", "erase_fields"] = "delete_rows"
    every: Duration = Field(default_factory=lambda: Duration.parse("5min"))

    model_config = ConfigDict(extra="forbid", populate_by_name=True, arbitrary_types_allowed=True)

    @field_validator("after", "every", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Duration:
        return value if isinstance(value, Duration) else Duration.parse(value)


class PersonalField(Strict):
    category: str
    purpose: str | None = None  # default: the table's purpose
    basis: LawfulBasis | None = None  # default: the purpose's basis
    special: SpecialCategory | None = None  # Art. 9 / Art. 10
    retention: str | None = None  # the envisaged time limit, for the record (Art. 30(1)(f))
    on_erasure: FieldAction | None = None  # default: the table's on_erasure, else null
    recipients: list[str] = Field(default_factory=list)
    #: identity kind this column holds (email, phone) — hashed with that kind's normalisation
    identity: str | None = None
    provided_by_subject: bool = True  # Art. 20: portability covers what the subject provided
    description: str = ""

    @field_validator("on_erasure", mode="before")
    @classmethod
    def _action(cls, value: Any) -> FieldAction | None:
        if value is None or isinstance(value, FieldAction):
            return value
        return parse_action(value)

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in fideslang_categories():
            hint = closest_categories(value)
            extra = f"; did you mean {', '.join(hint)}?" if hint else ""
            raise ValueError(f"'{value}' is not a fideslang data category{extra}")
        return value


class Table(Strict):
    subject: str | None = None  # None: a table without personal data of a subject (e.g. stats)
    parent: ParentLink | None = None
    #: identity kind → column here holding that identity (e.g. logs keyed by e-mail)
    identity: dict[str, str] = Field(default_factory=dict)
    tenant_column: str | None = None  # default: the system's tenant column, when the table has it
    purpose: str | None = None
    on_erasure: FieldAction | None = None
    retention: RetentionRule | None = None
    fields: dict[str, PersonalField] = Field(default_factory=dict)
    description: str = ""

    @field_validator("parent", mode="before")
    @classmethod
    def _parent(cls, value: Any) -> Any:
        return {"table": value} if isinstance(value, str) else value

    @field_validator("on_erasure", mode="before")
    @classmethod
    def _action(cls, value: Any) -> FieldAction | None:
        if value is None or isinstance(value, FieldAction):
            return value
        return parse_action(value)


class FileStore(Strict):
    """A folder of uploads (R30). Files are kept under opaque names; the policy says how long."""

    path: str
    subject: str | None = None
    category: str = "user.content.private"
    purpose: str | None = None
    retention: Duration | None = None

    @field_validator("retention", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Duration | None:
        return value if value is None or isinstance(value, Duration) else Duration.parse(value)


class System(Strict):
    """One database of the application, reached by a SQLAlchemy URL (or ``env:VAR``)."""

    url: str
    description: str = ""
    tenant_column: str | None = None
    tables: dict[str, Table] = Field(default_factory=dict)

    def resolved_url(self, base_dir: str | None = None) -> str:
        """The URL with ``env:VAR`` resolved and relative SQLite paths taken from ``base_dir``."""
        return resolve_url(self.url, base_dir)


def resolve_url(url: str, base_dir: str | None = None) -> str:
    from tutela.errors import ConfigurationError

    if url.startswith("env:"):
        var = url[4:]
        value = os.environ.get(var)
        if not value:
            raise ConfigurationError(f"environment variable {var} is not set (named by the policy as a URL)")
        url = value
    prefix = "sqlite:///"
    if base_dir and url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        url = prefix + os.path.join(base_dir, url[len(prefix):])
    return url


class Policy(Strict):
    version: Literal[1] = 1
    controller: Controller
    engine: EngineSettings = Field(default_factory=EngineSettings)
    security_measures: list[str] = Field(default_factory=list)
    purposes: dict[str, Purpose] = Field(min_length=1)
    recipients: dict[str, Recipient] = Field(default_factory=dict)
    subjects: dict[str, Subject] = Field(default_factory=dict)
    systems: dict[str, System] = Field(min_length=1)
    file_stores: dict[str, FileStore] = Field(default_factory=dict)

    #: the folder of the policy file; set by the loader, used to resolve relative paths
    base_dir: str | None = Field(default=None, exclude=True)
    _file: str = PrivateAttr(default="<policy>")
    _lines: dict = PrivateAttr(default_factory=dict)

    @property
    def file(self) -> str:
        """The policy file this was loaded from (for messages)."""
        return self._file

    def line_of(self, path: Path) -> int | None:
        """The line in the policy file of ``path`` (or of its nearest declared ancestor)."""
        probe = tuple(path)
        while probe and probe not in self._lines:
            probe = probe[:-1]
        return self._lines.get(probe)

    def problem(self, path: Path, message: str):
        """A :class:`PolicyProblem` located at ``path`` — for checks that run after loading."""
        from tutela.errors import PolicyProblem

        where = ".".join(str(p) for p in path)
        return PolicyProblem(self._file, self.line_of(path), f"{where}: {message}" if where else message)

    @model_validator(mode="after")
    def _names(self) -> Policy:
        import re

        for kind, names in (("purpose", self.purposes), ("recipient", self.recipients),
                            ("subject", self.subjects), ("system", self.systems)):
            for name in names:
                if not re.match(_NAME, name):
                    raise ValueError(f"{kind} name '{name}' must be letters, digits and underscores")
        return self

    # --- lookups --------------------------------------------------------------------------
    def iter_tables(self):
        """(system name, table name, Table) for every declared table."""
        for system_name, system in self.systems.items():
            for table_name, table in system.tables.items():
                yield system_name, table_name, table

    def field_purpose(self, table: Table, field: PersonalField) -> str | None:
        return field.purpose or table.purpose

    def field_basis(self, table: Table, field: PersonalField) -> LawfulBasis | None:
        if field.basis:
            return field.basis
        purpose = self.field_purpose(table, field)
        return self.purposes[purpose].basis if purpose in self.purposes else None

    def field_action(self, table: Table, field: PersonalField) -> FieldAction:
        return field.on_erasure or table.on_erasure or parse_action("null")

    def tenant_column(self, system: str, table: str) -> str | None:
        t = self.systems[system].tables[table]
        return t.tenant_column or self.systems[system].tenant_column

    # --- cross-reference checks ----------------------------------------------------------
    def problems(self) -> list[tuple[Path, str]]:
        """Every inconsistency between parts of the policy, as (path, sentence)."""
        found: list[tuple[Path, str]] = []
        for name, subject in self.subjects.items():
            here: Path = ("subjects", name)
            system = self.systems.get(subject.system)
            if system is None:
                found.append((here + ("system",), f"subject '{name}' names system '{subject.system}', "
                              "which is not declared under systems"))
            elif subject.table not in system.tables:
                found.append((here + ("table",), f"subject '{name}' names table '{subject.table}', which is "
                              f"not declared in system '{subject.system}'"))
        for system_name, table_name, table in self.iter_tables():
            here = ("systems", system_name, "tables", table_name)
            if table.subject is not None and table.subject not in self.subjects:
                found.append((here + ("subject",), f"table '{table_name}' belongs to subject "
                              f"'{table.subject}', which is not declared under subjects"))
            if table.purpose and table.purpose not in self.purposes:
                found.append((here + ("purpose",), f"purpose '{table.purpose}' is not declared under purposes"))
            if table.parent is not None:
                if table.parent.table not in self.systems[system_name].tables:
                    found.append((here + ("parent",), f"parent table '{table.parent.table}' is not declared "
                                  f"in system '{system_name}'"))
                elif table.parent.table == table_name:
                    found.append((here + ("parent",), f"table '{table_name}' cannot be its own parent"))
            if table.subject and table.parent is None and not table.identity:
                subject = self.subjects.get(table.subject)
                subject_ok = subject is not None and subject.system in self.systems \
                    and subject.table in self.systems[subject.system].tables
                if subject_ok and (subject.system, subject.table) != (system_name, table_name):
                    found.append((here, f"table '{table_name}' belongs to subject '{table.subject}' but says "
                                  "neither 'parent' nor 'identity', so its rows cannot be tied to a subject"))
            subject = self.subjects.get(table.subject or "")
            for kind in table.identity:
                if subject and kind not in subject.identities:
                    found.append((here + ("identity", kind), f"identity '{kind}' is not one of subject "
                                  f"'{table.subject}''s identities ({', '.join(subject.identities)})"))
            for field_name, field in table.fields.items():
                fhere = here + ("fields", field_name)
                purpose = self.field_purpose(table, field)
                if purpose is None:
                    found.append((fhere, f"field '{field_name}' has no purpose (set it on the field or table)"))
                elif purpose not in self.purposes:
                    found.append((fhere + ("purpose",), f"purpose '{purpose}' is not declared under purposes"))
                for i, recipient in enumerate(field.recipients):
                    if recipient not in self.recipients:
                        found.append((fhere + ("recipients", i), f"recipient '{recipient}' is not declared "
                                      "under recipients"))
                if field.identity and subject and field.identity not in subject.identities:
                    found.append((fhere + ("identity",), f"identity '{field.identity}' is not one of subject "
                                  f"'{table.subject}''s identities"))
            if table.retention and table.retention.action == "erase_fields" and not table.fields:
                found.append((here + ("retention", "action"), "erase_fields needs the table's fields declared"))
        found.extend(self._parent_cycles())
        for name, store in self.file_stores.items():
            if store.subject and store.subject not in self.subjects:
                found.append((("file_stores", name, "subject"), f"subject '{store.subject}' is not declared"))
            if store.purpose and store.purpose not in self.purposes:
                found.append((("file_stores", name, "purpose"), f"purpose '{store.purpose}' is not declared"))
        for name, recipient in self.recipients.items():
            from tutela.legal import EEA_COUNTRIES

            if recipient.country not in EEA_COUNTRIES and not recipient.transfer_mechanism:
                found.append((("recipients", name, "country"), f"recipient '{name}' is in {recipient.country}, "
                              "outside the EEA: name its transfer_mechanism (Art. 46: SCC, adequacy, BCR …)"))
        return found

    def _parent_cycles(self) -> list[tuple[Path, str]]:
        found = []
        for system_name, system in self.systems.items():
            for table_name in system.tables:
                seen = [table_name]
                current = system.tables[table_name]
                while current.parent is not None and current.parent.table in system.tables:
                    nxt = current.parent.table
                    if nxt in seen:
                        if nxt == table_name:
                            found.append((("systems", system_name, "tables", table_name, "parent"),
                                          "parent links form a cycle: " + " → ".join(seen + [nxt])))
                        break
                    seen.append(nxt)
                    current = system.tables[nxt]
        return found
