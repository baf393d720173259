"""The demo: a sample multi-tenant booking app (``app``), its policy, and the steps that show Tutela on it."""
