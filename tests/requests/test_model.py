"""Request types, statuses and the OpenDSR wire form."""

from datetime import date, datetime

import pytest

from tutela.errors import InvalidInput
from tutela.requests.model import (
    DataSubjectRequest,
    Identity,
    RequestType,
    Status,
    from_opendsr,
    opendsr_status,
    to_opendsr,
)


def _request(status: Status) -> DataSubjectRequest:
    return DataSubjectRequest(
        id="6f0c1c4e-3c1b-4b8e-9d55-1f0b8e1e2a11", tenant="t1", type=RequestType.ERASURE, status=status,
        subject_type="customer", identity_kind="email", subject_pseudonym="t1:abcdef:" + "0" * 64,
        received_at=datetime(2026, 1, 31, 8), legal_due=date(2026, 2, 28), sla_due=datetime(2026, 2, 14, 8))


@pytest.mark.parametrize(("status", "wire"), [
    (Status.RECEIVED, "pending"), (Status.VERIFYING, "pending"), (Status.VERIFIED, "pending"),
    (Status.IN_PROGRESS, "in_progress"), (Status.COMPLETED, "completed"), (Status.REJECTED, "cancelled"),
])
def test_every_status_maps_to_an_opendsr_status(status, wire):
    assert opendsr_status(status) == wire
    body = to_opendsr(_request(status))
    assert body["request_status"] == body["status"] == wire


def test_to_opendsr_names_the_request_without_the_raw_identity():
    body = to_opendsr(_request(Status.RECEIVED))
    assert body["subject_request_id"] == "6f0c1c4e-3c1b-4b8e-9d55-1f0b8e1e2a11"
    assert body["subject_request_type"] == "erasure"
    assert body["subject_identities"][0]["identity_type"] == "email"
    assert body["subject_identities"][0]["identity_value"].startswith("t1:")
    assert body["expected_completion_time"].startswith("2026-02-28T23:59:59")


def test_from_opendsr_reads_type_identities_and_time():
    new = from_opendsr({"subject_request_type": "access", "submitted_time": "2026-03-01T10:00:00Z",
                        "subject_identities": [{"identity_type": "email", "identity_value": "a@b.example",
                                                "identity_format": "raw"}]})
    assert new.type is RequestType.ACCESS
    assert new.identities == [Identity("email", "a@b.example")]
    assert new.received_at.year == 2026 and new.source == "opendsr"


@pytest.mark.parametrize("body", [
    None, [], {}, {"subject_request_type": "delete_everything", "subject_identities": []},
    {"subject_request_type": "access"},
    {"subject_request_type": "access", "subject_identities": [{"identity_type": "email"}]},
    {"subject_request_type": "access", "subject_identities": [
        {"identity_type": "email", "identity_value": "x", "identity_format": "sha256"}]},
    {"subject_request_type": "access", "submitted_time": "yesterday",
     "subject_identities": [{"identity_type": "email", "identity_value": "a@b.example"}]},
])
def test_from_opendsr_refuses_malformed_bodies(body):
    with pytest.raises(InvalidInput):
        from_opendsr(body)
