"""The REST API (FastAPI, OpenAPI) over the core: ``create_app(tutela)``."""

from tutela.api.app import create_app

__all__ = ["create_app"]
