"""The scheduler: jobs in the engine store, claimed by any number of `tutela worker` processes.

    from tutela.jobs import Worker
    Worker(tutela).run(once=True)
"""

from tutela.jobs.claims import Claim, claim_next, finish, renew, sync_jobs
from tutela.jobs.worker import Worker

__all__ = ["Claim", "Worker", "claim_next", "finish", "renew", "sync_jobs"]
