"""`make run`: the development server, a task worker and the scheduler, in one terminal.

Each process's output is shown with its name in front (`web | …`, `worker | …`): the e-mail a
new ticket sends is printed by the worker (console e-mail backend), not by the web server.
Ctrl-C (or SIGTERM) stops all three; if one of them stops, the others are stopped too.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the development server, a task worker and the scheduler until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport="127.0.0.1:8000", **options):
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        commands = [("web", [*manage, "runserver", addrport])]
        if settings.TASKS_BACKEND != "immediate":
            commands.append(("worker", [*manage, "run_worker"]))
        commands.append(("scheduler", [*manage, "run_scheduler"]))
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        width = max(len(name) for name, _command in commands)
        lock = threading.Lock()
        children = []
        for name, command in commands:
            child = subprocess.Popen(  # noqa: S603 - our own manage.py with fixed arguments
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                text=True,
                bufsize=1,
                start_new_session=True,  # Ctrl-C reaches us; we stop each group in order
            )
            children.append((name, child))
            threading.Thread(
                target=self._relay, args=(name.ljust(width), child, lock), daemon=True
            ).start()
        stopping = threading.Event()

        def stop(*_args):
            stopping.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping.is_set():
                ended = [(name, c) for name, c in children if c.poll() is not None]
                if ended:
                    name, child = ended[0]
                    self.stderr.write(f"{name} stopped (exit {child.returncode}): stopping all")
                    break
                stopping.wait(0.5)
        finally:
            self._stop_all(children)

    def _relay(self, name, child, lock):
        for line in child.stdout:
            with lock:
                self.stdout.write(f"{name} | {line.rstrip()}")
                self.stdout.flush()

    def _stop_all(self, children):
        for _name, child in children:
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _name, child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self.stdout.write("stopped: web server, worker and scheduler")
