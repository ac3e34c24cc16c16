"""``epimap worker`` with one ingest step made slow: ``python -m tests.officials.slow_worker STEP MARKER``.

The step (``publish``: inside the publication's transaction, after staging and diffing; ``locate``:
inside a preview's dry run) writes MARKER when entered, then sleeps, so a test can SIGKILL the
worker in the middle of a job.  ``normal`` as the step runs the worker unchanged.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import ingest.pipeline
from epimap.cli import main


def slowed(step: str, marker: Path) -> None:
    real = getattr(ingest.pipeline, step)

    def slow(*args, **kwargs):
        marker.write_text(step)
        time.sleep(120)
        return real(*args, **kwargs)

    setattr(ingest.pipeline, step, slow)


if __name__ == "__main__":
    step, marker = sys.argv[1], Path(sys.argv[2])
    if step != "normal":
        slowed(step, marker)
    main(["worker", "--heartbeat", "1", "--stalled-after", "3", "--stalled-check", "1"])
