"""Import aiogram with its models' validators built when first used, not all at import.

aiogram declares its types ``defer_build=True``, then ``aiogram.types`` calls
``model_rebuild`` on every one of them (about 440) to resolve their forward
references, which builds every validator and serializer anyway: 106 MB of the bot's
resident memory (``import aiogram`` alone: +122 MB, 48 MB with this; measured in
benchmarks/memory.py, docs/deploy.md). The adapter validates ``Update`` and a few
methods; the rest would never run.

So during the import those rebuilds are skipped, and the names they would have
resolved (the ones aiogram's modules import only for type checking) are put in each
model's module, where pydantic looks when it builds the model on first use
(``Update.model_validate``, ``Response[Message]``, a keyboard built from aiogram's
types). ``Update`` is built at once (3 MB). Once aiogram is imported, by anything,
this does nothing: its types are then built as aiogram builds them.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


def import_aiogram() -> None:
    """Import aiogram (once), its types' validators left to be built when first used."""
    if "aiogram" in sys.modules:
        return
    rebuild = BaseModel.__dict__["model_rebuild"]
    deferred: list[tuple[type[BaseModel], Mapping[str, Any]]] = []

    def defer(cls: type[BaseModel], *args: Any, **kwargs: Any) -> bool | None:
        namespace = kwargs.get("_types_namespace")
        if namespace is not None and cls.__module__.startswith("aiogram.") and not args:
            deferred.append((cls, namespace))
            return None
        return rebuild.__func__(cls, *args, **kwargs)  # type: ignore[no-any-return]

    BaseModel.model_rebuild = classmethod(defer)  # type: ignore[assignment, method-assign]
    try:
        import aiogram  # noqa: F401
    finally:
        BaseModel.model_rebuild = rebuild  # type: ignore[method-assign]
    for cls, namespace in deferred:
        module = vars(sys.modules[cls.__module__])
        for name, value in namespace.items():
            module.setdefault(name, value)
    # Every update is validated as one: built now, so that start-up (not the first
    # update) pays for it and a pydantic that cannot build it fails there.
    from aiogram.types import Update

    Update.model_rebuild()
