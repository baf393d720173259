"""OpenDSR status callbacks: URLs a caller registers with a request, told of every status change
with a signed OpenDSR status document."""

from tutela.opendsr.callbacks import deliver_due, register_callbacks

__all__ = ["deliver_due", "register_callbacks"]
