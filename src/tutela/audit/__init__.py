"""The tamper-evident audit log (R26): hash-chained events with a separately signed head."""

from tutela.audit.events import ACTIONS, AuditEvent, VerifyResult
from tutela.audit.log import AuditLog

__all__ = ["ACTIONS", "AuditEvent", "AuditLog", "VerifyResult"]
