"""Settings module for the `rq` command line: `rq worker -c bot.rq_settings …`.

Importing the jobs and the channel adapters here loads them once, in the worker, before it
runs anything: the first job does not pay for importing twilio and python-telegram-bot.
"""

import bot.channels.console  # noqa: F401
import bot.channels.telegram  # noqa: F401
import bot.channels.twilio  # noqa: F401
import jobs.handle_inbound  # noqa: F401
import jobs.send_batch  # noqa: F401
import jobs.send_message  # noqa: F401
import jobs.tick  # noqa: F401
from bot.queue import redis_url

REDIS_URL = redis_url()
