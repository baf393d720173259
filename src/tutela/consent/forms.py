"""Consent forms (R19): an embeddable HTML snippet per collection point, and what it submits.

:func:`render_form` shows each purpose's latest notice (Markdown rendered without raw HTML, the
rest autoescaped) with a checkbox: purposes declared ``consent: separate`` get one each, those
declared ``bundled`` share one. Hidden fields carry each notice's version and SHA-256, so the
ledger records exactly the text that was shown. :func:`record_form_submission` validates a
submission (the web endpoint passes the posted fields) and writes its events in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from tutela.consent.children import RELATIONSHIPS, ParentalConsent
from tutela.consent.ledger import ConsentEvent, record_events, subject_key_for
from tutela.consent.notices import NoticeIndex, get_notice, require_purpose
from tutela.errors import InvalidInput, NotFound
from tutela.legal import DIGITAL_CONSENT_AGE_BY_COUNTRY, LawfulBasis

MAX_FIELD_CHARS = 400


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("tutela.consent", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       trim_blocks=True, lstrip_blocks=True)


@cache
def _markdown():
    from markdown_it import MarkdownIt

    # "commonmark" with html off: raw HTML in a notice is shown as text, unsafe links are dropped.
    return MarkdownIt("commonmark", {"html": False})


def notice_html(text: str) -> Markup:
    """A notice's Markdown as safe HTML (raw HTML in the text is escaped, not rendered)."""
    return Markup(_markdown().render(text))


def _consent_purpose(tutela, name: str):
    purpose = require_purpose(tutela, name)
    if purpose.basis != LawfulBasis.CONSENT:
        raise InvalidInput(f"purpose '{name}' rests on {purpose.basis.value}, not consent; a consent form "
                           "can only ask for consent purposes")
    return purpose


def render_form(tutela, purposes: list[str], *, collection_point: str, action: str,
                ask_age: bool = True) -> str:
    """The HTML snippet of a consent form for ``purposes`` at ``collection_point``, posting to ``action``.

    Each purpose must rest on consent and have a notice (NotFound otherwise).
    """
    if not purposes:
        raise InvalidInput("a consent form needs at least one purpose")
    separate, bundled = [], []
    for name in dict.fromkeys(purposes):
        purpose = _consent_purpose(tutela, name)
        try:
            notice = get_notice(tutela, name)
        except NotFound:
            raise NotFound(f"purpose '{name}' has no notice yet; create one with `tutela notice new {name}` "
                           "before putting it on a form") from None
        item = {"purpose": name, "notice": notice, "html": notice_html(notice.text)}
        (bundled if purpose.consent == "bundled" else separate).append(item)
    if len(bundled) == 1:  # a bundle of one is just a separate checkbox
        separate, bundled = separate + bundled, []
    countries = sorted(set(DIGITAL_CONSENT_AGE_BY_COUNTRY) | set(tutela.policy.engine.digital_consent_ages))
    return _environment().get_template("consent_form.html.j2").render(
        action=action, collection_point=collection_point, separate=separate, bundled=bundled,
        bundle=" ".join(item["purpose"] for item in bundled), ask_age=ask_age, countries=countries,
        relationships=RELATIONSHIPS)


def render_withdrawal_form(tutela, purposes: list[str], *, collection_point: str, action: str) -> str:
    """An HTML snippet to withdraw consent (Art. 7(3): as easy as giving it), posting to ``action``.

    The same :func:`record_form_submission` records what it posts (``withdraw.<purpose>`` = yes).
    """
    if not purposes:
        raise InvalidInput("a withdrawal form needs at least one purpose")
    listed = [(name, _consent_purpose(tutela, name).description) for name in dict.fromkeys(purposes)]
    return _environment().get_template("withdrawal_form.html.j2").render(
        action=action, collection_point=collection_point, purposes=listed)


def _field(form: Mapping[str, str], name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_FIELD_CHARS:
        raise InvalidInput(f"form field '{name}' is not text of at most {MAX_FIELD_CHARS} characters")
    return value.strip() or None


def _ticked(tutela, form: Mapping[str, str]) -> list[str]:
    ticked = []
    for name in form:
        if name.startswith("consent.") and name != "consent.bundle" and _field(form, name) == "yes":
            ticked.append(name.removeprefix("consent."))
    if _field(form, "consent.bundle") == "yes":
        for name in (_field(form, "bundle") or "").split():
            if _consent_purpose(tutela, name).consent != "bundled":
                raise InvalidInput(f"purpose '{name}' needs its own consent and cannot be part of a bundle")
            ticked.append(name)
    return list(dict.fromkeys(ticked))


def record_form_submission(tutela, form_data: Mapping[str, str], *, collection_point: str,
                           tenant: str | None, actor: str = "web_form") -> list[int]:
    """Validate a submitted consent form and append one ``given`` event per ticked purpose, and one
    ``withdrawn`` event per ``withdraw.<purpose>`` ticked on a withdrawal form.

    Checks: a well-formed e-mail, each ticked purpose declared and consent-based, the notice version
    shown exists and its SHA-256 matches the stored text, the Art. 8 age rule. Any problem raises
    :class:`InvalidInput` and nothing is written. Returns the new ledger ids (empty when nothing
    was ticked).
    """
    email = _field(form_data, "email")
    if email is None:
        raise InvalidInput("the form has no e-mail address")
    subject_key = subject_key_for(tutela, "email", email)
    purposes = _ticked(tutela, form_data)
    birth = _field(form_data, "birth_date")
    try:
        birth_date = date.fromisoformat(birth) if birth else None
    except ValueError:
        raise InvalidInput("the date of birth is not a date (YYYY-MM-DD)") from None
    parent = None
    if _field(form_data, "parent_name"):
        parent = ParentalConsent(_field(form_data, "parent_name"),
                                 _field(form_data, "parent_relationship") or "parent", "declared_on_form")
    with tutela.store.engine.connect() as conn:
        index = NoticeIndex.load(conn)
    events = []
    for name in purposes:
        _consent_purpose(tutela, name)
        shown = _field(form_data, f"notice.{name}")
        if shown is None or not shown.isdigit():
            raise InvalidInput(f"the form does not say which notice version of '{name}' was shown")
        _, version, sha = index.resolve(name, int(shown))
        claimed = _field(form_data, f"notice_sha256.{name}")
        if claimed is not None and claimed != sha:
            raise InvalidInput(f"the notice text of '{name}' v{version} shown on the form differs from the "
                               "stored one; show the form again")
        events.append(ConsentEvent(subject_key, name, "given", notice_version=version, method="web_form",
                                   collection_point=collection_point, tenant=tenant, birth_date=birth_date,
                                   country=_field(form_data, "country"), parent=parent))
    for name in form_data:
        if name.startswith("withdraw.") and _field(form_data, name) == "yes":
            purpose = name.removeprefix("withdraw.")
            _consent_purpose(tutela, purpose)
            if purpose in purposes:
                raise InvalidInput(f"the form both gives and withdraws consent to '{purpose}'")
            events.append(ConsentEvent(subject_key, purpose, "withdrawn", method="web_form",
                                       collection_point=collection_point, tenant=tenant))
    if not events:
        return []
    return record_events(tutela, events, actor=actor)
