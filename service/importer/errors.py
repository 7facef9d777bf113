"""Why an import stopped, apart from the Hub's own :class:`~service.hub.errors.HubError`."""

from __future__ import annotations


class ImportFailed(Exception):
    """The import cannot succeed as things stand; retrying will not help.

    ``str(error)`` says what is wrong and what to do about it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LeaseLost(Exception):
    """The job's lease passed to another worker; this worker's result must be discarded."""

    def __init__(self, job_id: str, owner: str) -> None:
        super().__init__(f"import job {job_id} is no longer leased by {owner}")
        self.job_id = job_id
        self.owner = owner
