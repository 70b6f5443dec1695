"""Where Herald's PynamoDB models are, for the tests that check them against the tables."""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

from pynamodb.models import Model

import chalicelib


def is_table_module(name: str) -> bool:
    """Where PynamoDB models live: a feature's `tables`, its `*_repository` modules and stores."""
    last = name.rsplit(".", 1)[-1]
    return last == "tables" or last.endswith(("_repository", "_store"))


def herald_models() -> list[type[Model]]:
    """Every Model subclass in chalicelib's table and repository modules, the discriminated item classes
    included."""
    for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        if is_table_module(module.name):
            importlib.import_module(module.name)

    def below(cls: type[Model]) -> Iterator[type[Model]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    return [model for model in below(Model) if model.__module__.startswith("chalicelib.")]
