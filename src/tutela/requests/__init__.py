"""Data-subject requests (R10-R15): lifecycle, deadlines, e-mail verification, exports.

:class:`tutela.requests.service.RequestService` is the layer every interface wraps;
:mod:`tutela.requests.model` holds the types, statuses and the OpenDSR mapping.
"""
