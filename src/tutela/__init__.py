"""Tutela: a GDPR data-protection engine for SaaS applications.

The core library is importable without the CLI or the web layer::

    from tutela import Tutela
    t = Tutela.open("tutela.yaml")
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy so that `import tutela` stays cheap and free of import cycles.
    if name == "Tutela":
        from tutela.engine import Tutela

        return Tutela
    raise AttributeError(name)
