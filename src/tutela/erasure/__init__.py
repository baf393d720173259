"""Erasure and pseudonymisation: forget one subject, pseudonymise in bulk, suppression, authority
lookup, tenant erasure and signed receipts (R6-R9, R14, R16)."""

from tutela.erasure.forget import forget_subject
from tutela.erasure.result import ErasureResult
from tutela.erasure.suppression import is_suppressed, suppress

__all__ = ["ErasureResult", "forget_subject", "is_suppressed", "suppress"]
