from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutela.durations import Duration, add_months


@pytest.mark.parametrize(("text", "unit", "amount"), [
    ("3h", "hours", 3), ("7d", "days", 7), ("1y", "years", 1), ("6months", "months", 6), ("90 min", "minutes", 90),
    ("2w", "weeks", 2), ("30s", "seconds", 30),
])
def test_parse(text, unit, amount):
    d = Duration.parse(text)
    assert (d.unit, d.amount) == (unit, amount)


@pytest.mark.parametrize("text", ["3x", "", "h3", "-1d", "1.5h", "soon"])
def test_parse_refuses(text):
    with pytest.raises(ValueError):
        Duration.parse(text)


def test_calendar_arithmetic():
    assert Duration.parse("1months").before(datetime(2026, 3, 31, 12)) == datetime(2026, 2, 28, 12)
    assert Duration.parse("1months").after(datetime(2026, 3, 31)) == datetime(2026, 4, 30)
    assert Duration.parse("1y").before(datetime(2028, 2, 29)) == datetime(2027, 2, 28)
    assert Duration.parse("3h").before(datetime(2026, 1, 1, 1)) == datetime(2025, 12, 31, 22)


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)), st.integers(-600, 600))
def test_add_months_never_overflows_and_keeps_day_when_possible(moment, months):
    result = add_months(moment, months)
    assert (result.year * 12 + result.month) - (moment.year * 12 + moment.month) == months
    assert result.day == moment.day or result.day < moment.day
    assert result.time() == moment.time()
