"""Legal and internal deadlines of a request (R12, Art. 12(3)).

Legal: one calendar month after receipt; where the receipt day does not exist in the last month,
that month's last day (31 January → 28/29 February). The period ends with that whole day.
Extension: once, by two further months counted from the original due date. SLA: the policy's
``engine.request_sla`` (default 14 days, seed 004) after receipt.
"""

from __future__ import annotations

from datetime import date, datetime

from tutela.durations import Duration, add_months
from tutela.legal import DEFAULT_REQUEST_SLA, REQUEST_EXTENSION_MONTHS, REQUEST_RESPONSE_MONTHS


def legal_due(received_at: datetime | date) -> date:
    """The last day on which a request received at ``received_at`` may be answered (Art. 12(3))."""
    day = received_at.date() if isinstance(received_at, datetime) else received_at
    return add_months(day, REQUEST_RESPONSE_MONTHS)


def extended_due(received_at: datetime | date) -> date:
    """The due day after the one extension by two further months (Art. 12(3)).

    Counted from receipt (1 + 2 months) so that month-end clamping happens once: a request
    received on 31 January is due on 30 April after extension, not 28 April.
    """
    day = received_at.date() if isinstance(received_at, datetime) else received_at
    return add_months(day, REQUEST_RESPONSE_MONTHS + REQUEST_EXTENSION_MONTHS)


def sla_due(received_at: datetime, sla: Duration | None = None) -> datetime:
    """The internal answer target: ``sla`` (default 14 days) after receipt."""
    if sla is None:
        return received_at + DEFAULT_REQUEST_SLA
    return sla.after(received_at)
