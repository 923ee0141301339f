"""Settings module for the `rq` command line: `rq worker -c bot.rq_settings …`."""

import jobs.handle_inbound  # noqa: F401  (loaded once here, so each forked job starts warm)
import jobs.send_message  # noqa: F401
import jobs.tick  # noqa: F401
from bot.queue import redis_url

REDIS_URL = redis_url()
