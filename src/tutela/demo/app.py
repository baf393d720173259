"""The sample application of the demo: a multi-tenant booking SaaS with realistic fake data.

It imitates the products of the seeds: Picflow booking pages (tenants, their operators and end
users, bookings and custom form answers), Flussu workflows (sessions that live 3 h, uploads kept
under opaque sharded names for 7 days), Mautic newsletter contacts (subscribed, unsubscribed,
bounced) and LogAlto operations (system logs with IP and user agent).

The shape below is stable: other areas' tests and demo steps rely on these names.
All timestamps are naive UTC. Every ``tenant_id`` references ``tenants.id``.

=====================  ======================================================================
table                  columns
=====================  ======================================================================
tenants                id, slug, company_name, country, plan, created_at
operators              id, tenant_id, email, first_name, last_name, role, last_login_ip,
                       last_login_at, created_at                    (subject ``operator``)
end_users              id, tenant_id, email, phone, first_name, last_name, date_of_birth,
                       country, postcode, city, locale, referrer, created_at
                                                                    (subject ``end_user``)
bookings               id, tenant_id, end_user_id → end_users, service, starts_at, status,
                       notes, price_cents, created_at
booking_answers        id, booking_id → bookings, question, answer, created_at
                       (answers → bookings → end_users: a 3-level path to the subject)
invoices               id, tenant_id, booking_id → bookings, number, billing_name,
                       billing_address, amount_cents, currency, issued_at
workflow_sessions      id, session_key, tenant_id, end_user_id → end_users (nullable), workflow,
                       step, status (in_progress | completed), data (JSON form fields),
                       created_at, updated_at
uploads                id (opaque 32 hex), tenant_id, end_user_id → end_users, storage_path,
                       original_filename, content_type, size_bytes, created_at
                       (the file itself: ``<dir>/uploads/<storage_path>``)
system_logs            id, tenant_id (nullable), end_user_id → end_users (nullable),
                       user_email (operators' requests), ip, user_agent, method, path,
                       status_code, created_at
newsletter_contacts    id, tenant_id, email, first_name, last_name, country, city, ip, status
                       (subscribed | unsubscribed | bounced), source, subscribed_at,
                       unsubscribed_at                              (subject ``contact``)
=====================  ======================================================================

Phone numbers always carry their country code (80 % E.164, the rest typed with spaces), so they
normalise without a region. Identity and foreign-key columns are indexed. Columns that erasure may hash (e-mail, phone,
names) are at least 120 characters wide, enough for a keyed hash (``t1:<id>:<64 hex>``).
"""

from __future__ import annotations

import json
import os
import random
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from faker import Faker

from tutela.clock import utcnow
from tutela.errors import Conflict

metadata = sa.MetaData()

WIDE = 254  # e-mail addresses (RFC 5321 path limit); also fits keyed hashes
NAME = 120  # names and phone numbers: room for a keyed hash (74 characters)

tenants = sa.Table(
    "tenants", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("company_name", sa.String(200), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("plan", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

operators = sa.Table(
    "operators", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
    sa.Column("email", sa.String(WIDE), nullable=False, index=True),
    sa.Column("first_name", sa.String(NAME)),
    sa.Column("last_name", sa.String(NAME)),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("last_login_ip", sa.String(64)),
    sa.Column("last_login_at", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

end_users = sa.Table(
    "end_users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
    sa.Column("email", sa.String(WIDE), index=True),
    sa.Column("phone", sa.String(NAME), index=True),
    sa.Column("first_name", sa.String(NAME)),
    sa.Column("last_name", sa.String(NAME)),
    sa.Column("date_of_birth", sa.Date),
    sa.Column("country", sa.String(2)),
    sa.Column("postcode", sa.String(20)),
    sa.Column("city", sa.String(NAME)),
    sa.Column("locale", sa.String(10)),
    sa.Column("referrer", sa.String(300)),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

bookings = sa.Table(
    "bookings", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
    sa.Column("end_user_id", sa.Integer, sa.ForeignKey("end_users.id"), nullable=False, index=True),
    sa.Column("service", sa.String(120), nullable=False),
    sa.Column("starts_at", sa.DateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("notes", sa.Text),
    sa.Column("price_cents", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

booking_answers = sa.Table(
    "booking_answers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("booking_id", sa.Integer, sa.ForeignKey("bookings.id"), nullable=False, index=True),
    sa.Column("question", sa.String(200), nullable=False),
    sa.Column("answer", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

invoices = sa.Table(
    "invoices", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
    sa.Column("booking_id", sa.Integer, sa.ForeignKey("bookings.id"), nullable=False, index=True),
    sa.Column("number", sa.String(40), nullable=False, unique=True),
    sa.Column("billing_name", sa.String(NAME)),
    sa.Column("billing_address", sa.String(300)),
    sa.Column("amount_cents", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("issued_at", sa.DateTime, nullable=False),
)

workflow_sessions = sa.Table(
    "workflow_sessions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_key", sa.String(64), nullable=False, unique=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
    sa.Column("end_user_id", sa.Integer, sa.ForeignKey("end_users.id"), index=True),
    sa.Column("workflow", sa.String(80), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("data", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

uploads = sa.Table(
    "uploads", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
    sa.Column("end_user_id", sa.Integer, sa.ForeignKey("end_users.id"), nullable=False, index=True),
    sa.Column("storage_path", sa.String(80), nullable=False),
    sa.Column("original_filename", sa.String(255)),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
)

system_logs = sa.Table(
    "system_logs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), index=True),
    sa.Column("end_user_id", sa.Integer, sa.ForeignKey("end_users.id"), index=True),
    sa.Column("user_email", sa.String(WIDE), index=True),
    sa.Column("ip", sa.String(64)),
    sa.Column("user_agent", sa.String(300)),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("path", sa.String(300), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
)

newsletter_contacts = sa.Table(
    "newsletter_contacts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
    sa.Column("email", sa.String(WIDE), nullable=False, index=True),
    sa.Column("first_name", sa.String(NAME)),
    sa.Column("last_name", sa.String(NAME)),
    sa.Column("country", sa.String(2)),
    sa.Column("city", sa.String(NAME)),
    sa.Column("ip", sa.String(64)),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("source", sa.String(40)),
    sa.Column("subscribed_at", sa.DateTime, nullable=False),
    sa.Column("unsubscribed_at", sa.DateTime),
)

#: Tables in insertion order (parents before children).
TABLES = [tenants, operators, end_users, bookings, booking_answers, invoices, workflow_sessions,
          uploads, system_logs, newsletter_contacts]

UPLOADS_DIR = "uploads"


@dataclass(frozen=True)
class Locale:
    """A market of the demo: Faker locale, country, free-mail domains and mobile number shapes."""

    code: str
    country: str
    domains: tuple[str, ...]
    mobile: Callable[[random.Random], tuple[str, str]]  # rng → (E.164, the same with spaces)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _de(rng):
    prefix, rest = rng.choice(["151", "152", "160", "170", "171", "176"]), _digits(rng, 8)
    return f"+49{prefix}{rest}", f"+49 {prefix} {rest}"


def _fr(rng):
    # 06 and 073-078 are French mobile ranges.
    lead, rest = rng.choice(["6", "6", "7"]), _digits(rng, 8)
    rest = rng.choice("345678" if lead == "7" else "0124578") + rest[1:]
    pairs = " ".join(rest[i:i + 2] for i in range(0, 8, 2))
    return f"+33{lead}{rest}", f"+33 {lead} {pairs}"


def _it(rng):
    prefix, rest = rng.choice(["320", "328", "333", "339", "347", "349", "366"]), _digits(rng, 7)
    return f"+39{prefix}{rest}", f"+39 {prefix} {rest[:3]} {rest[3:]}"


def _hu(rng):
    prefix, rest = rng.choice(["20", "30", "70"]), _digits(rng, 7)
    return f"+36{prefix}{rest}", f"+36 {prefix} {rest[:3]} {rest[3:]}"


def _es(rng):
    prefix, rest = rng.choice(["600", "612", "622", "633", "644", "655", "666", "677"]), _digits(rng, 6)
    return f"+34{prefix}{rest}", f"+34 {prefix} {rest[:3]} {rest[3:]}"


def _nl(rng):
    rest = rng.choice("12345") + _digits(rng, 7)
    return f"+316{rest}", f"+31 6 {rest}"


LOCALES = (
    Locale("de_DE", "DE", ("gmx.de", "web.de", "t-online.de", "gmail.com"), _de),
    Locale("fr_FR", "FR", ("orange.fr", "free.fr", "laposte.net", "gmail.com"), _fr),
    Locale("it_IT", "IT", ("libero.it", "virgilio.it", "alice.it", "gmail.com"), _it),
    Locale("hu_HU", "HU", ("freemail.hu", "citromail.hu", "gmail.com"), _hu),
    Locale("es_ES", "ES", ("telefonica.net", "yahoo.es", "gmail.com"), _es),
    Locale("nl_NL", "NL", ("ziggo.nl", "kpnmail.nl", "gmail.com"), _nl),
)

SERVICES = {
    "photo": ["Portrait session", "Family photo shoot", "Wedding consultation", "Headshots"],
    "wellness": ["Physiotherapy 30 min", "Sports massage", "Yoga class", "Nutrition consultation"],
    "salon": ["Haircut", "Colour and cut", "Manicure"],
    "tours": ["City walking tour", "Wine tasting", "Cooking class"],
}
QUESTIONS = {
    "photo": [("How many people will attend?", lambda r: str(r.randint(1, 8))),
              ("Preferred location", lambda r: r.choice(["Studio", "Outdoors", "At home"])),
              ("Anything we should know?", lambda r: r.choice(["", "My daughter is shy", "Bringing our dog"]))],
    "wellness": [("Any health conditions or injuries?",
                  lambda r: r.choice(["None", "Lower back pain", "Recovering from knee surgery", "Asthma",
                                      "Pregnant, 5th month", "High blood pressure"])),
                 ("How did you hear about us?", lambda r: r.choice(["Google", "A friend", "Instagram"]))],
    "salon": [("Allergies to products?", lambda r: r.choice(["No", "Latex", "Ammonia dyes"])),
              ("Preferred stylist", lambda r: r.choice(["Any", "Marta", "Jonas", "Lea"]))],
    "tours": [("Number of participants", lambda r: str(r.randint(1, 6))),
              ("Dietary requirements", lambda r: r.choice(["None", "Vegetarian", "Gluten-free", "Vegan"]))],
}
NOTES = ["", "", "", "Please call me before the appointment.", "Running 10 minutes late, sorry!",
         "Wheelchair access needed.", "I have a latex allergy.", "Diabetic, may need a short break.",
         "Second visit, same as last time.", "Can we move this to the afternoon?",
         "Reach me on {phone} if anything changes.", "Invoice to {email} please."]
WORKFLOWS = ("contact-form", "quote-request", "onboarding-bot", "feedback-survey")
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "TelegramBot (like TwitterBot)",
)
UPLOAD_KINDS = (("application/pdf", "pdf", ["passport-scan", "medical-certificate", "contract", "cv"]),
                ("image/jpeg", "jpg", ["photo", "IMG_2024", "reference", "selfie"]),
                ("image/png", "png", ["screenshot", "logo", "moodboard"]))


@dataclass
class BuildResult:
    """What :func:`build_app` wrote: rows per table and the number of upload files."""

    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    now: datetime | None = None

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def create_schema(engine: sa.Engine) -> None:
    """Create the application's tables (with foreign keys and indexes) on any supported database."""
    metadata.create_all(engine)


def estimated_rows(size: int) -> int:
    """About how many rows :func:`build_app` writes for ``size`` end users (for progress bars)."""
    return round(size * 13.1) + 100


def utc_now() -> datetime:
    """The current time as naive UTC, to the second (the demo's timestamps are naive UTC)."""
    return utcnow().replace(microsecond=0)


def build_app(engine: sa.Engine, *, size: int = 10_000, seed: int = 1, now: datetime | None = None,
              files_dir: str | os.PathLike | None = None, batch_size: int = 5_000,
              progress: Callable[[str, int], None] | None = None) -> BuildResult:
    """Create the schema and fill it with ``size`` end users and their related rows.

    The data is a pure function of ``(size, seed, now)``: the same three give the same rows.
    ``now`` (naive UTC, default the current time) anchors every timestamp, so some sessions are
    older than 3 h, some uploads older than 7 days and some logs older than one year.
    Upload files are written under ``files_dir/uploads/`` when ``files_dir`` is given.
    ``progress(table, rows)`` is called after each batch is written; rows stream in batches of
    ``batch_size``, so memory stays bounded by the end users, not by all the rows.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    _refuse_filled(engine)
    create_schema(engine)
    result = BuildResult(now=now or utc_now(), rows={t.name: 0 for t in TABLES})
    by_name = {t.name: t for t in TABLES}
    files_rng = random.Random(f"{seed}:files")
    with engine.begin() as conn:
        for name, rows in iter_batches(size=size, seed=seed, now=result.now, batch_size=batch_size):
            conn.execute(by_name[name].insert(), rows)
            result.rows[name] += len(rows)
            if name == "uploads" and files_dir is not None:
                result.files += write_upload_files(Path(files_dir), rows, files_rng)
            if progress:
                progress(name, len(rows))
        _reset_sequences(conn)
    return result


def _refuse_filled(engine: sa.Engine) -> None:
    existing = set(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        for table in TABLES:
            if table.name in existing and conn.execute(sa.select(table.c.id).limit(1)).first() is not None:
                raise Conflict(f"the database already holds rows in '{table.name}'; the demo app is built "
                               "into an empty database only (nothing was changed)")


def _reset_sequences(conn: sa.Connection) -> None:
    # Rows were inserted with explicit ids; PostgreSQL's sequences must move past them so that
    # rows added later (by tests or the application) get fresh ids. MariaDB and SQLite do this.
    if conn.dialect.name != "postgresql":
        return
    for table in TABLES:
        if isinstance(table.c.id.type, sa.Integer):
            following = sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0) + 1).scalar_subquery()
            sequence = sa.func.pg_get_serial_sequence(table.name, "id")
            conn.execute(sa.select(sa.func.setval(sequence, following, False)))


def upload_path(base: Path, storage_path: str) -> Path:
    """Where an upload's file lives: ``<base>/uploads/<storage_path>``."""
    return base / UPLOADS_DIR / storage_path


def write_upload_files(base: Path, rows: Iterable[dict], rng: random.Random) -> int:
    """Write the small file of each upload row under ``base/uploads/<sharded opaque path>``."""
    count = 0
    for row in rows:
        path = upload_path(base, row["storage_path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"application/pdf": b"%PDF-1.4\n", "image/jpeg": b"\xff\xd8\xff\xe0",
                  "image/png": b"\x89PNG\r\n\x1a\n"}[row["content_type"]]
        path.write_bytes(header + rng.randbytes(row["size_bytes"] - len(header)))
        count += 1
    return count


@dataclass
class GeneratedData:
    """All rows of the app, table by table, and the time they are anchored to."""

    now: datetime
    rows: dict[str, list[dict]]


class _Pools:
    """Names, cities and postcodes drawn once per locale from Faker (fast, deterministic)."""

    def __init__(self, seed: int, pool_size: int = 300):
        self.by_locale = {}
        for i, locale in enumerate(LOCALES):
            fake = Faker(locale.code)
            fake.seed_instance(seed * 7919 + i)
            places = [(fake.city(), fake.postcode()) for _ in range(pool_size // 2)]
            self.by_locale[locale.code] = {
                "first": [fake.first_name() for _ in range(pool_size)],
                "last": [fake.last_name() for _ in range(pool_size)],
                "place": places,
                "street": [fake.street_address() for _ in range(pool_size // 2)],
                "company": [fake.company() for _ in range(20)],
            }


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return f"2001:db8:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}::{rng.getrandbits(16):x}"
    return f"{rng.choice([31, 37, 46, 62, 77, 79, 81, 85, 87, 91, 93, 188, 212, 217])}." \
           f"{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _ago(rng: random.Random, now: datetime, low: timedelta, high: timedelta) -> datetime:
    span = int((high - low).total_seconds())
    return now - low - timedelta(seconds=rng.randint(0, max(span, 0)))


def generate(*, size: int, seed: int, now: datetime) -> GeneratedData:
    """All rows of the application as lists of dicts, table by table (no database involved)."""
    rows: dict[str, list[dict]] = {t.name: [] for t in TABLES}
    for name, batch in iter_batches(size=size, seed=seed, now=now):
        rows[name].extend(batch)
    return GeneratedData(now=now, rows=rows)


class _Buffers:
    """Rows waiting to be written, flushed parents first so foreign keys always resolve."""

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.rows: dict[str, list[dict]] = {t.name: [] for t in TABLES}

    def add(self, table: str, row: dict) -> None:
        self.rows[table].append(row)

    def full(self) -> bool:
        return any(len(rows) >= self.batch_size for rows in self.rows.values())

    def flush(self) -> Iterator[tuple[str, list[dict]]]:
        for table in TABLES:
            if self.rows[table.name]:
                yield table.name, self.rows[table.name]
                self.rows[table.name] = []


def iter_batches(*, size: int, seed: int, now: datetime,
                 batch_size: int = 5_000) -> Iterator[tuple[str, list[dict]]]:
    """The application's rows as ``(table, rows)`` batches of about ``batch_size`` rows, parents first.

    Only tenants, operators and end users are held in memory; the larger child tables stream.
    """
    rng = random.Random(seed)
    pools = _Pools(seed)
    out = _Buffers(batch_size)
    people: dict[str, list[dict]] = {"tenants": [], "operators": [], "end_users": []}
    day = timedelta(days=1)
    # Tenants: the customers, each a controller for its own end users (seed 004).
    tenant_count = max(3, min(40, size // 500))
    tenant_kinds = {}
    for tid in range(1, tenant_count + 1):
        locale = LOCALES[(tid - 1) % len(LOCALES)]
        kind = list(SERVICES)[(tid - 1) % len(SERVICES)]
        name = rng.choice(pools.by_locale[locale.code]["company"])
        tenant_kinds[tid] = (kind, locale)
        people["tenants"].append({
            "id": tid, "slug": f"{_ascii(name)[:40]}-{tid}", "company_name": name,
            "country": locale.country, "plan": rng.choice(["starter", "pro", "business"]),
            "created_at": _ago(rng, now, 400 * day, 900 * day)})

    # Operators: each tenant's staff.
    oid = 0
    for tid, (_kind, locale) in tenant_kinds.items():
        slug = people["tenants"][tid - 1]["slug"].rsplit("-", 1)[0][:20] or "team"
        pool = pools.by_locale[locale.code]
        for n in range(rng.randint(2, 5)):
            oid += 1
            first, last = rng.choice(pool["first"]), rng.choice(pool["last"])
            created = _ago(rng, now, 30 * day, 400 * day)
            people["operators"].append({
                "id": oid, "tenant_id": tid, "email": f"{_ascii(first)}.{_ascii(last)}@{slug}.example",
                "first_name": first, "last_name": last, "role": "owner" if n == 0 else rng.choice(
                    ["admin", "staff", "staff"]),
                "last_login_ip": _ip(rng), "last_login_at": _ago(rng, now, timedelta(0), 20 * day),
                "created_at": created})

    # End users: the people who book; a few use the same e-mail with two tenants.
    used_emails: set[tuple[int, str]] = set()
    for uid in range(1, size + 1):
        tid = rng.randint(1, tenant_count)
        reuse = uid > 50 and rng.random() < 0.03
        if reuse:
            other = people["end_users"][rng.randrange(len(people["end_users"]))]
            if (tid, other["email"].strip().lower()) in used_emails or other["tenant_id"] == tid:
                reuse = False
        locale = LOCALES[rng.randrange(len(LOCALES))] if not reuse else \
            next(loc for loc in LOCALES if loc.code == other["locale"])
        pool = pools.by_locale[locale.code]
        if reuse:
            first, last, email = other["first_name"], other["last_name"], other["email"]
        else:
            first, last = rng.choice(pool["first"]), rng.choice(pool["last"])
            email = f"{_ascii(first)}.{_ascii(last)}{uid}@{rng.choice(locale.domains)}"
            if rng.random() < 0.05:  # people type their address in many ways
                local, _, domain = email.partition("@")
                email = f"{local[:1].upper()}{local[1:]}@{domain.upper()}"
        used_emails.add((tid, email.strip().lower()))
        e164, spaced = locale.mobile(rng)
        # Phones carry their country code (so they normalise without a region), most in E.164,
        # some typed with spaces.
        phone = None if rng.random() < 0.25 else e164 if rng.random() < 0.8 else spaced
        city, postcode = rng.choice(pool["place"])
        dob = None if rng.random() < 0.2 else date(now.year, 1, 1) - timedelta(
            days=rng.randint(13 * 365, 80 * 365))
        people["end_users"].append({
            "id": uid, "tenant_id": tid, "email": email, "phone": phone, "first_name": first,
            "last_name": last, "date_of_birth": dob, "country": locale.country, "postcode": postcode,
            "city": city, "locale": locale.code,
            "referrer": rng.choice([None, None, "https://www.google.com/", "https://www.instagram.com/",
                                    "https://www.facebook.com/", "newsletter"]),
            "created_at": _ago(rng, now, day, 420 * day)})

    for name, rows in people.items():
        for start in range(0, len(rows), batch_size):
            yield name, rows[start:start + batch_size]

    # Bookings, their custom form answers and invoices.
    bid = aid = iid = 0
    for user in people["end_users"]:
        if out.full():
            yield from out.flush()
        kind, _locale = tenant_kinds[user["tenant_id"]]
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
            bid += 1
            created = _ago(rng, now, timedelta(0), now - user["created_at"])
            starts = datetime.combine(created.date() + timedelta(days=rng.randint(1, 60)),
                                      time(rng.randint(8, 18), rng.choice([0, 15, 30, 45])))
            status = "booked" if starts > now else rng.choice(
                ["completed", "completed", "completed", "cancelled", "no_show"])
            note = rng.choice(NOTES).format(phone=user["phone"] or "", email=user["email"]) or None
            price = rng.choice([2500, 4000, 6500, 9000, 15000])
            out.add("bookings", {
                "id": bid, "tenant_id": user["tenant_id"], "end_user_id": user["id"],
                "service": rng.choice(SERVICES[kind]), "starts_at": starts, "status": status,
                "notes": note, "price_cents": price, "created_at": created})
            for question, answer in rng.sample(QUESTIONS[kind], k=rng.randint(1, len(QUESTIONS[kind]))):
                aid += 1
                out.add("booking_answers", {"id": aid, "booking_id": bid, "question": question,
                                                "answer": answer(rng) or None, "created_at": created})
            if status == "completed":
                iid += 1
                street = rng.choice(pools.by_locale[user["locale"]]["street"])
                out.add("invoices", {
                    "id": iid, "tenant_id": user["tenant_id"], "booking_id": bid,
                    "number": f"INV-{user['tenant_id']:03d}-{iid:07d}",
                    "billing_name": f"{user['first_name']} {user['last_name']}",
                    "billing_address": f"{street}, {user['postcode']} {user['city']}",
                    "amount_cents": price, "currency": "HUF" if user["country"] == "HU" else "EUR",
                    "issued_at": starts + timedelta(hours=2)})

    # Workflow sessions (Flussu): most are older than their 3 h life and wait for retention.
    for sid in range(1, size // 2 + 1):
        if out.full():
            yield from out.flush()
        user = people["end_users"][rng.randrange(size)]
        linked = rng.random() < 0.6
        created = _ago(rng, now, timedelta(0), timedelta(hours=3)) if rng.random() < 0.3 else \
            _ago(rng, now, timedelta(hours=3, minutes=1), 3 * day)
        completed = rng.random() < 0.55
        fields = {"name": f"{user['first_name']} {user['last_name']}", "email": user["email"]}
        if rng.random() < 0.5:
            fields["message"] = rng.choice(["Do you have time next week?", "I need a quote for 4 people.",
                                            "Please call me back.", "Is parking available?"])
        out.add("workflow_sessions", {
            "id": sid, "session_key": f"{rng.getrandbits(128):032x}", "tenant_id": user["tenant_id"],
            "end_user_id": user["id"] if linked else None, "workflow": rng.choice(WORKFLOWS),
            "step": rng.randint(3, 6) if completed else rng.randint(1, 4),
            "status": "completed" if completed else "in_progress",
            "data": json.dumps({"fields": fields}, ensure_ascii=False), "created_at": created,
            "updated_at": created + timedelta(minutes=rng.randint(0, 40))})

    # Uploads: opaque ids, sharded paths; most are older than their 7 days.
    for _ in range(max(1, size * 3 // 10)):
        if out.full():
            yield from out.flush()
        user = people["end_users"][rng.randrange(size)]
        opaque = f"{rng.getrandbits(128):032x}"
        content_type, ext, stems = rng.choice(UPLOAD_KINDS)
        out.add("uploads", {
            "id": opaque, "tenant_id": user["tenant_id"], "end_user_id": user["id"],
            "storage_path": f"{opaque[:2]}/{opaque[2:4]}/{opaque}",
            "original_filename": f"{rng.choice(stems)}-{_ascii(user['last_name'])}.{ext}",
            "content_type": content_type, "size_bytes": rng.randint(64, 512),
            "created_at": _ago(rng, now, timedelta(0), 30 * day)})

    # System logs over ~14 months: booking-page hits by end users, dashboard hits by operators.
    for lid in range(1, size * 5 + 1):
        if out.full():
            yield from out.flush()
        created = _ago(rng, now, timedelta(0), 425 * day)
        if rng.random() < 0.8:
            user = people["end_users"][rng.randrange(size)]
            tenant, end_user_id, email = user["tenant_id"], user["id"], None
            method, path = rng.choice([("GET", "/book/{slug}"), ("POST", "/book/{slug}/confirm"),
                                       ("GET", "/book/{slug}/slots"), ("POST", "/upload")])
        else:
            op = people["operators"][rng.randrange(len(people["operators"]))]
            tenant, end_user_id, email = op["tenant_id"], None, op["email"]
            method, path = rng.choice([("GET", "/dashboard"), ("GET", "/dashboard/bookings"),
                                       ("POST", "/login"), ("GET", "/export.csv")])
        out.add("system_logs", {
            "id": lid, "tenant_id": tenant, "end_user_id": end_user_id, "user_email": email,
            "ip": _ip(rng), "user_agent": rng.choice(USER_AGENTS), "method": method,
            "path": path.format(slug=people["tenants"][tenant - 1]["slug"]),
            "status_code": rng.choice([200, 200, 200, 200, 201, 302, 404, 500]), "created_at": created})

    # Newsletter contacts (Mautic): many are also end users of the same tenant.
    for cid in range(1, size * 6 // 10 + 1):
        if out.full():
            yield from out.flush()
        if rng.random() < 0.4:
            user = people["end_users"][rng.randrange(size)]
            tid, email, first, last = user["tenant_id"], user["email"], user["first_name"], user["last_name"]
            country, city = user["country"], user["city"]
        else:
            tid = rng.randint(1, tenant_count)
            locale = LOCALES[rng.randrange(len(LOCALES))]
            pool = pools.by_locale[locale.code]
            first, last = rng.choice(pool["first"]), rng.choice(pool["last"])
            email = f"{_ascii(first)[:1]}{_ascii(last)}.{cid}@{rng.choice(locale.domains)}"
            country, city = locale.country, rng.choice(pool["place"])[0]
        roll = rng.random()
        status = "subscribed" if roll < 0.75 else "unsubscribed" if roll < 0.9 else "bounced"
        subscribed = _ago(rng, now, 2 * day, 700 * day)
        out.add("newsletter_contacts", {
            "id": cid, "tenant_id": tid, "email": email, "first_name": first, "last_name": last,
            "country": country, "city": city, "ip": _ip(rng), "status": status,
            "source": rng.choice(["booking_page", "landing_page", "import", "event"]),
            "subscribed_at": subscribed,
            "unsubscribed_at": None if status == "subscribed" else subscribed + timedelta(
                days=rng.randint(1, max(1, (now - subscribed).days)))})
    yield from out.flush()
