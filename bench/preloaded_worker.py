"""Diagnostic worker settings: `rq worker -c bench.preloaded_worker …` imports the jobs first.

RQ forks a work horse for every job; whatever the worker imported before forking, every horse
inherits for free. bench.inbound_latency --preload uses this to show what the latency would
be if the app's worker did the same. It changes nothing in the app.
"""

import jobs.handle_inbound  # noqa: F401
import jobs.send_message  # noqa: F401
import jobs.tick  # noqa: F401
from bot.channels import telegram, twilio  # noqa: F401
from bot.rq_settings import REDIS_URL  # noqa: F401
