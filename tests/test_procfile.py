"""`make run`: the Procfile's processes together, stopped in order on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys

from bot import procfile
from bot.config import ROOT
from tests.support.processes import wait_for

# A process that needs a moment to finish on SIGTERM, as RQ's warm shutdown does, and then
# writes a last word: it must have said it before Redis goes.
SLOW_TO_STOP = (
    "import signal, sys, time, pathlib\n"
    "def bye(*_):\n"
    "    time.sleep(3)\n"
    "    pathlib.Path(sys.argv[1]).write_text('done')\n"
    "    sys.exit(0)\n"
    "signal.signal(signal.SIGTERM, bye)\n"
    "pathlib.Path(sys.argv[1] + '.ready').write_text('up')\n"
    "while True: time.sleep(0.1)\n"
)


# `make run` as its own process, told where its Procfile is; instead of stopping Redis it says
# which processes had finished by then.
RUN = (
    "import pathlib, sys\n"
    "from bot import procfile\n"
    "folder = pathlib.Path(sys.argv[1])\n"
    "def stop_redis():\n"
    "    print('redis stops after:', sorted(p.name for p in folder.glob('*.done')), flush=True)\n"
    "sys.exit(procfile.main(folder / 'Procfile', after=stop_redis))\n"
)


def test_ctrl_c_stops_worker_and_clock_before_redis(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(SLOW_TO_STOP)
    (tmp_path / "Procfile").write_text(
        # A host's release step runs once per deploy; `make run` has migrated and skips it.
        f"release: {sys.executable} {script} {tmp_path / 'release.done'}\n"
        f"worker: {sys.executable} {script} {tmp_path / 'worker.done'}\n"
        f"clock: {sys.executable} {script} {tmp_path / 'clock.done'}\n"
    )
    run = subprocess.Popen(
        [sys.executable, "-c", RUN, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: len(list(tmp_path.glob("*.ready"))) == 2, what="both processes to be up")
    run.send_signal(signal.SIGINT)  # Ctrl-C
    out, _ = run.communicate(timeout=procfile.STOP_SECONDS + 10)
    assert run.returncode == 0
    assert "redis stops after: ['clock.done', 'worker.done']" in out
    assert not (tmp_path / "release.done.ready").exists()


def test_a_procfile_is_read_as_name_and_command(tmp_path):
    file = tmp_path / "Procfile"
    file.write_text("# the processes\nweb: gunicorn app\nworker: rq worker high\n")
    assert procfile.read_procfile(file) == {"web": "gunicorn app", "worker": "rq worker high"}
