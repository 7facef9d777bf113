"""The Hub importer: import jobs, the worker that runs them, and the discovery sweep.

:func:`~service.importer.model_import.import_model` is the import itself, a function of a
:class:`~service.hub.client.HubClient` and a model repository. Around it,
:mod:`~service.importer.queue` and :mod:`~service.importer.claim` keep the ``import_jobs``
table, :mod:`~service.importer.worker` leases and runs jobs, :mod:`~service.importer.sweep`
enqueues new models, and :mod:`~service.importer.lifespan` runs both inside the service.
"""
