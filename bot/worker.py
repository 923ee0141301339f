"""The Procfile's worker: RQ's SimpleWorker that also serves the inbox, ahead of every queue.

A webhook signals new messages with one RPUSH of the contact's id onto the inbox (bot.queue),
where an RQ job would cost a job hash, a queue push and its bookkeeping on both sides. The
worker waits on the inbox and its queues in one BLPOP and handles a contact it pops straight
away. The database stays the truth: a signal lost with Redis, or a contact whose handling
failed here, is found by tick's recovery of messages left received (jobs/tick.py).
"""

from __future__ import annotations

import logging

from rq import Queue, SimpleWorker
from rq.exceptions import NoSuchJobError
from rq.utils import as_text
from rq.worker import WorkerStatus

from bot import queue as queues

log = logging.getLogger(__name__)


class Arrival(Exception):
    """Raised out of RQ's dequeue loop when the inbox, not a queue, gave the worker work."""

    def __init__(self, contact_id: int) -> None:
        super().__init__(contact_id)
        self.contact_id = contact_id


class InboxQueue(Queue):
    """RQ's queue, whose dequeue also pops the inbox when the high queue is served."""

    @classmethod
    def dequeue_any(
        cls,
        queues_served,
        timeout,
        connection,
        job_class=None,
        serializer=None,
        death_penalty_class=None,
    ):
        """The next job of the queues, in their order, or an Arrival from the inbox before them."""
        keys = [q.key for q in queues_served]
        if any(q.name == queues.HIGH for q in queues_served):
            keys.insert(0, queues.INBOX)
        while True:
            popped = cls.lpop(keys, timeout, connection=connection)
            if popped is None:
                return None
            key, value = map(as_text, popped)
            if key == queues.INBOX:
                if value.isdigit():
                    raise Arrival(int(value))
                log.warning("ignored a malformed inbox entry %r", value[:40])
                continue
            served = cls.from_queue_key(
                key,
                connection=connection,
                job_class=job_class,
                serializer=serializer,
                death_penalty_class=death_penalty_class,
            )
            try:
                job = served.job_class.fetch(value, connection=connection, serializer=serializer)
            except NoSuchJobError:
                continue  # deleted or expired since it was queued, as RQ itself skips it
            return job, served


class Worker(SimpleWorker):
    """SimpleWorker (no fork per job) that handles inbox arrivals between its jobs."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # After RQ has checked the queues it was given (the command line makes plain Queues):
        # only the dequeue differs.
        self.queue_class = InboxQueue

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        """RQ's dequeue, handling each inbox arrival it meets until a job or nothing comes."""
        while True:
            try:
                return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
            except Arrival as arrival:
                self.handle_arrival(arrival.contact_id)
            if self._stop_requested:
                return None  # a warm shutdown came while handling: stop as after a job

    def handle_arrival(self, contact_id: int) -> None:
        """Handle a contact's new messages as the handle_inbound job would, busy meanwhile."""
        from jobs import handle_inbound

        # Busy, so that a warm shutdown waits for the handling instead of cutting it short.
        self.set_state(WorkerStatus.BUSY)
        self.procline(f"Handling contact {contact_id} from the inbox")
        try:
            handle_inbound.run(contact_id)
        except Exception:
            # Its messages stay received; tick's recovery enqueues them again within a minute.
            log.exception("handling contact %s from the inbox failed; tick retries", contact_id)
