"""What `rq cron jobs.schedule` runs: the tick, every minute, on the default queue."""

from rq import cron

from jobs.tick import run as tick

cron.register(tick, "default", cron="* * * * *", job_timeout=300)
