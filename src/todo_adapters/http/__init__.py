"""The REST API: a Litestar application over the core's use cases."""

from todo_adapters.http.app import create_app

__all__ = ["create_app"]
