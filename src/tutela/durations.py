"""Durations as written in policies (``3h``, ``7d``, ``1y``, ``6months``) and calendar arithmetic.

Seconds, minutes, hours, days and weeks are exact; months and years are calendar periods
(Regulation 1182/71 Art. 3): 31 March - 1 month = 28/29 February, 31 March + 1 month = 30 April.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

_Moment = TypeVar("_Moment", date, datetime)

_UNITS = {
    "s": "seconds", "sec": "seconds", "second": "seconds", "seconds": "seconds",
    "min": "minutes", "minute": "minutes", "minutes": "minutes", "m": "minutes",
    "h": "hours", "hour": "hours", "hours": "hours",
    "d": "days", "day": "days", "days": "days",
    "w": "weeks", "week": "weeks", "weeks": "weeks",
    "mo": "months", "month": "months", "months": "months",
    "y": "years", "year": "years", "years": "years",
}
_PATTERN = re.compile(r"^\s*(-?\d+)\s*([a-z]+)\s*$")


@dataclass(frozen=True)
class Duration:
    """A span of time: an exact part (timedelta) or a number of calendar months."""

    amount: int
    unit: str  # seconds | minutes | hours | days | weeks | months | years
    text: str

    @classmethod
    def parse(cls, text: str | int) -> Duration:
        """Parse ``3h``, ``7 days``, ``1y``; raise ValueError with a readable sentence."""
        raw = str(text)
        match = _PATTERN.match(raw.lower())
        if not match or match.group(2) not in _UNITS:
            raise ValueError(
                f"'{raw}' is not a duration; write a number and a unit such as 30s, 15min, 3h, 7d, 2w, "
                "6months or 1y"
            )
        amount = int(match.group(1))
        if amount < 0:
            raise ValueError(f"'{raw}' is negative; a duration must be zero or more")
        return cls(amount, _UNITS[match.group(2)], raw.strip())

    @property
    def months(self) -> int:
        return self.amount * (12 if self.unit == "years" else 1) if self.is_calendar else 0

    @property
    def is_calendar(self) -> bool:
        return self.unit in ("months", "years")

    def as_timedelta(self) -> timedelta:
        """The exact length; months and years have none, so this raises for them."""
        if self.is_calendar:
            raise ValueError(f"{self.text} is a calendar period and has no fixed length")
        return timedelta(**{self.unit: self.amount})

    def before(self, moment: datetime) -> datetime:
        """The moment this duration before ``moment`` (calendar-correct for months/years)."""
        if self.is_calendar:
            return add_months(moment, -self.months)
        return moment - self.as_timedelta()

    def after(self, moment: datetime) -> datetime:
        """The moment this duration after ``moment`` (calendar-correct for months/years)."""
        if self.is_calendar:
            return add_months(moment, self.months)
        return moment + self.as_timedelta()

    def approx_days(self) -> float:
        if self.is_calendar:
            return self.months * 30.436875
        return self.as_timedelta().total_seconds() / 86400

    def __str__(self) -> str:
        return self.text


def add_months(moment: _Moment, months: int) -> _Moment:
    """Add (or subtract) calendar months, clamping to the last day of a shorter month."""
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
