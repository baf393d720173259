"""Legal and SLA deadlines (Art. 12(3)): month ends, leap years, the one extension."""

from datetime import date, datetime

import pytest

from tutela.durations import Duration
from tutela.requests.deadlines import extended_due, legal_due, sla_due


@pytest.mark.parametrize(("received", "due"), [
    (date(2026, 3, 5), date(2026, 4, 5)),
    (date(2026, 8, 31), date(2026, 9, 30)),
    (date(2026, 1, 31), date(2026, 2, 28)),
    (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
    (date(2028, 1, 29), date(2028, 2, 29)),
    (date(2027, 1, 29), date(2027, 2, 28)),
    (date(2026, 12, 31), date(2027, 1, 31)),  # across the year
    (date(2026, 2, 28), date(2026, 3, 28)),
])
def test_legal_due_is_one_calendar_month_clamped_to_month_end(received, due):
    assert legal_due(received) == due
    assert legal_due(datetime.combine(received, datetime.min.time()).replace(hour=23, minute=59)) == due


@pytest.mark.parametrize(("received", "due"), [
    (date(2026, 1, 31), date(2026, 4, 30)),  # not 28 April: the clamp happens once
    (date(2026, 11, 30), date(2027, 2, 28)),
    (date(2027, 11, 30), date(2028, 2, 29)),  # leap year
    (date(2026, 3, 5), date(2026, 6, 5)),
])
def test_extension_adds_two_further_months(received, due):
    assert extended_due(received) == due


def test_sla_defaults_to_fourteen_days_and_follows_the_policy():
    received = datetime(2026, 2, 20, 9, 30)
    assert sla_due(received) == datetime(2026, 3, 6, 9, 30)
    assert sla_due(received, Duration.parse("3d")) == datetime(2026, 2, 23, 9, 30)
    assert sla_due(received, Duration.parse("1month")) == datetime(2026, 3, 20, 9, 30)
