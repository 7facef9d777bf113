"""The application factory: ``create_app(settings)``; nothing at module scope."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from service import __version__
from service.api.compute import PlanningController
from service.api.compute_pool import compute_pool, provide_compute_pool
from service.api.deps import (
    provide_calibration,
    provide_engine_catalog,
    provide_engine_profile,
    provide_session,
    provide_settings,
)
from service.api.docs_ui import docs_assets_router, swagger_ui_plugin
from service.api.engines import EngineController
from service.api.frontier import FrontierController
from service.api.gpus import GpuController
from service.api.health import HealthController
from service.api.imports import ImportController
from service.api.lifespan import database
from service.api.limits import cost_budget
from service.api.models import ModelController
from service.api.openapi_strict import ClosedStructSchemaPlugin
from service.api.outage import UNAVAILABLE_HANDLERS, gpu_cache_primer, provide_gpu_cache
from service.api.problems import EXCEPTION_HANDLERS
from service.api.slack import SlackController
from service.db.outage import GpuCache
from service.importer.client_factory import HubClientFactory, hub_client_from_settings
from service.importer.lifespan import hub_importer
from service.observability.endpoint import metrics
from service.observability.metrics import Metrics
from service.observability.middleware import instrument
from service.settings import Settings


def create_app(
    settings: Settings | None = None, *, hub_client_factory: HubClientFactory | None = None
) -> Litestar:
    """Build the ASGI app; tests pass their own settings, servers read the environment.

    ``hub_client_factory`` builds the importer's Hub client (default: ``HfHubClient`` from
    the settings); tests pass fakes.
    """
    settings = settings or Settings.from_env()
    app_metrics = Metrics()
    app = Litestar(
        route_handlers=[
            HealthController,
            PlanningController,
            FrontierController,
            EngineController,
            GpuController,
            ModelController,
            SlackController,
            ImportController,
            metrics,
            docs_assets_router(),
        ],
        dependencies={
            "db_session": Provide(provide_session),
            "engine_profile": Provide(provide_engine_profile, sync_to_thread=False),
            "engine_catalog": Provide(provide_engine_catalog, sync_to_thread=False),
            "calibration": Provide(provide_calibration, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
            "gpu_cache": Provide(provide_gpu_cache, sync_to_thread=False),
            "compute_pool": Provide(provide_compute_pool, sync_to_thread=False),
        },
        lifespan=[
            database(settings),
            gpu_cache_primer(),
            compute_pool(settings),
            hub_importer(settings),
        ],
        exception_handlers={**EXCEPTION_HANDLERS, **UNAVAILABLE_HANDLERS},  # type: ignore[dict-item]
        request_max_body_size=settings.max_body_bytes,
        plugins=[ClosedStructSchemaPlugin()],
        logging_config=None,  # `capplan serve` configures logging (service/observability/logs.py)
        openapi_config=OpenAPIConfig(
            title="capplan",
            version=__version__,
            description=(
                "Capacity planning for LLM serving: does it fit, how many at once, how fast. "
                "Bytes are integers, times milliseconds, throughput tokens per second."
            ),
            path="/schema",
            # Swagger UI served from the app (service/api/docs_ui.py): no CDN, no internet.
            render_plugins=[swagger_ui_plugin()],
            components=Components(
                security_schemes={
                    "adminToken": SecurityScheme(
                        type="http", scheme="bearer", description="CAPPLAN_ADMIN_TOKEN"
                    )
                }
            ),
        ),
        state=State(
            {
                "settings": settings,
                "hub_client_factory": hub_client_factory or hub_client_from_settings,
                "metrics": app_metrics,
                "gpu_cache": GpuCache(),
                "cost_budget": cost_budget(settings),
            }
        ),
        debug=settings.debug,
    )
    return instrument(app, app_metrics)
