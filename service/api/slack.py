"""``POST /integrations/slack/commands``: Slack's slash command, signed, answered in Block Kit.

Outside the OpenAPI document and the admin guard: Slack authenticates with its signature
(``SLACK_SIGNING_SECRET``); without a configured secret every request is refused (401).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.problems import Problem
from service.domain.calibration import Calibration
from service.domain.engine import EngineCatalog, EngineProfile
from service.planning.assumptions import Assumptions
from service.planning.errors import CatalogUnavailable
from service.prices_file import PricesFileError, load_prices
from service.settings import Settings
from service.slack.answer import answer
from service.slack.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, is_signed_by_slack


def form_fields(body: bytes) -> dict[str, str]:
    """The form post's fields, first value each (Slack sends each once)."""
    parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}


class SlackController(Controller):
    path = "/integrations/slack"
    include_in_schema = False

    @post("/commands", status_code=200, include_in_schema=False)
    async def command(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        engine_profile: NamedDependency[EngineProfile],
        engine_catalog: NamedDependency[EngineCatalog],
        calibration: NamedDependency[Calibration],
    ) -> dict[str, Any]:
        body = await request.body()
        headers = request.headers
        signed = is_signed_by_slack(
            settings.slack_signing_secret,
            headers.get(TIMESTAMP_HEADER),
            headers.get(SIGNATURE_HEADER),
            body,
        )
        if not signed:
            raise Problem(401, "missing, stale or invalid Slack signature")
        form = form_fields(body)
        command = form.get("command") or "/capplan"
        try:
            prices = load_prices(settings.prices_file) if settings.prices_file else {}
        except PricesFileError as exc:
            raise CatalogUnavailable(str(exc)) from exc
        assume = Assumptions(
            engine=engine_profile, calibration=calibration, prices=prices, engines=engine_catalog
        )
        text = form.get("text", "")
        return await answer(db_session, text, command, str(request.base_url), assume)
