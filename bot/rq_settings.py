"""Settings module for the `rq` command line: `rq worker -c bot.rq_settings …`."""

from bot.queue import redis_url

REDIS_URL = redis_url()
