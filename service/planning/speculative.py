"""The speculative proposer a question names, read from the catalog.

``speculative.draft_model`` is a catalog model id (an unknown one is :class:`ModelNotFound`,
a 404 with the nearest ids); it is required with method ``draft_model`` and refused with the
others (:class:`InvalidField`, a 400 naming it).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service.contract.schemas import SpeculativeIn
from service.domain.modifiers_draft import DraftModel, SpeculativeMethod
from service.planning.errors import InvalidField
from service.planning.resolve import resolve_model


async def resolve_draft(
    session: AsyncSession, speculative: SpeculativeIn | None, prefix: str = ""
) -> DraftModel | None:
    """The draft model of ``speculative`` (``prefix``: where it sits in the question)."""
    if speculative is None:
        return None
    field = f"{prefix}speculative.draft_model"
    wanted = SpeculativeMethod(speculative.method) is SpeculativeMethod.DRAFT_MODEL
    if not wanted:
        if speculative.draft_model is not None:
            raise InvalidField(field, f"only with method draft_model, not {speculative.method}")
        return None
    if speculative.draft_model is None:
        raise InvalidField(field, "required with method draft_model (a catalog model id)")
    model = await resolve_model(session, speculative.draft_model)
    return DraftModel(name=model.name, arch=model.architecture, params=model.parameters)
