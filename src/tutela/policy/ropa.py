"""The record of processing activities (Art. 30(1)), generated from the policy.

:func:`build_record` makes one plain data structure; every format (Markdown and HTML for people,
CSV and JSON for machines) is rendered from it, so the formats never disagree.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from importlib import resources
from typing import Any

from tutela.errors import InvalidInput
from tutela.legal import EEA_COUNTRIES
from tutela.policy.model import Policy

FORMATS = ("md", "html", "csv", "json")


def build_record(policy: Policy, today: date | None = None) -> dict[str, Any]:
    """The Art. 30(1) record as data: controller, and one activity per purpose."""
    activities: dict[str, dict[str, Any]] = {}
    for name, purpose in policy.purposes.items():
        activities[name] = {
            "purpose": name,
            "description": purpose.description,
            "lawful_basis": purpose.basis.value,
            "lawful_basis_article": purpose.basis.article,
            "legitimate_interest": purpose.legitimate_interest,
            "subject_categories": set(),
            "data_categories": set(),
            "special_categories": set(),
            "recipients": set(),
            "retention": set(),
            "systems": set(),
        }
    for system_name, table_name, table in policy.iter_tables():
        for field_name, personal in table.fields.items():
            purpose = policy.field_purpose(table, personal)
            if purpose not in activities:
                continue
            act = activities[purpose]
            if table.subject:
                act["subject_categories"].add(table.subject)
            act["data_categories"].add(personal.category)
            if personal.special:
                act["special_categories"].add(personal.special.value)
            act["recipients"].update(personal.recipients)
            act["systems"].add(f"{system_name}.{table_name}")
            if personal.retention:
                act["retention"].add(f"{table_name}.{field_name}: {personal.retention}")
        if table.retention is not None:
            purpose = table.purpose
            rule = table.retention
            text = f"{table_name}: {rule.action.replace('_', ' ')} {rule.after} after {rule.from_}"
            for act in ([activities[purpose]] if purpose in activities else activities.values()):
                if f"{system_name}.{table_name}" in act["systems"]:
                    act["retention"].add(text)
    for store_name, store in policy.file_stores.items():
        if store.purpose in activities:
            act = activities[store.purpose]
            act["data_categories"].add(store.category)
            if store.subject:
                act["subject_categories"].add(store.subject)
            if store.retention:
                act["retention"].add(f"files '{store_name}': deleted {store.retention} after upload")
    recipients = {
        name: {
            "name": name,
            "purpose": r.purpose,
            "country": r.country,
            "third_country": r.country not in EEA_COUNTRIES,
            "transfer_mechanism": r.transfer_mechanism,
            "dpa_date": r.dpa_date.isoformat() if r.dpa_date else None,
            "last_review": r.last_review.isoformat() if r.last_review else None,
        }
        for name, r in policy.recipients.items()
    }
    out_activities = []
    for act in activities.values():
        names = sorted(act["recipients"])
        transfers = [
            f"{recipients[n]['name']} ({recipients[n]['country']}, {recipients[n]['transfer_mechanism']})"
            for n in names if recipients[n]["third_country"]
        ]
        out_activities.append({
            **{k: v for k, v in act.items() if not isinstance(v, set)},
            "subject_categories": sorted(act["subject_categories"]),
            "data_categories": sorted(act["data_categories"]),
            "special_categories": sorted(act["special_categories"]),
            "recipients": [f"{n} ({recipients[n]['purpose']}, {recipients[n]['country']})" for n in names],
            "third_country_transfers": transfers,
            "retention": sorted(act["retention"]) or ["not stated in the policy"],
            "systems": sorted(act["systems"]),
        })
    controller = policy.controller
    return {
        "title": "Record of processing activities (GDPR Art. 30(1))",
        "generated": (today or date.today()).isoformat(),
        "controller": {
            "name": controller.name,
            "contact": controller.contact,
            "dpo": controller.dpo.model_dump(exclude_none=True) if controller.dpo else None,
            "representative": controller.representative.model_dump(exclude_none=True)
            if controller.representative else None,
        },
        "activities": out_activities,
        "recipients": list(recipients.values()),
        "security_measures": list(policy.security_measures) or ["not stated in the policy"],
    }


def render_ropa(policy: Policy, fmt: str = "md", today: date | None = None) -> str:
    """The record in ``fmt`` (md, html, csv, json)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format '{fmt}'; use one of: {', '.join(FORMATS)}")
    record = build_record(policy, today)
    if fmt == "json":
        return json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(record)
    from jinja2 import Environment

    env = Environment(autoescape=fmt == "html", trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    source = resources.files("tutela.policy").joinpath("templates", f"ropa.{fmt}.j2").read_text(encoding="utf-8")
    return env.from_string(source).render(record=record)


CSV_COLUMNS = ("purpose", "description", "lawful_basis", "lawful_basis_article", "subject_categories",
               "data_categories", "special_categories", "recipients", "third_country_transfers",
               "retention", "systems")


def _csv(record: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("controller", *CSV_COLUMNS, "security_measures"))
    for act in record["activities"]:
        writer.writerow((record["controller"]["name"],
                         *("; ".join(v) if isinstance(v := act[c], list) else (v or "") for c in CSV_COLUMNS),
                         "; ".join(record["security_measures"])))
    return buffer.getvalue()

