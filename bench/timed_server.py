"""``streamlit run``, each script run timed: what ``python -m bench.crowd`` serves.

    python -m bench.timed_server run server.py [streamlit options]

Appends one line per script run to the file named by ``BENCH_SCRIPT_TIMES``:
``<end unix time> <seconds> <full|fragment> <the page's url path, '-' for the home page>``. The
timing wraps Streamlit's script runner from the outside; the app is the same.
"""

from __future__ import annotations

import os
import sys
import threading
import time


def install(path: str) -> None:
    from streamlit.runtime.scriptrunner import script_runner

    lock = threading.Lock()
    original = script_runner.ScriptRunner._run_script

    def timed(self, rerun_data):
        started = time.perf_counter()
        try:
            return original(self, rerun_data)
        finally:
            kind = "fragment" if rerun_data.fragment_id_queue else "full"
            manager = self._pages_manager
            page = manager.get_pages().get(manager.current_page_script_hash, {}).get("url_pathname") or "-"
            line = f"{time.time():.3f} {time.perf_counter() - started:.4f} {kind} {page}\n"
            with lock, open(path, "a", encoding="utf-8") as out:
                out.write(line)

    script_runner.ScriptRunner._run_script = timed


if __name__ == "__main__":
    if os.environ.get("BENCH_SCRIPT_TIMES"):
        install(os.environ["BENCH_SCRIPT_TIMES"])
    from streamlit.web.cli import main

    sys.argv = ["streamlit", *sys.argv[1:]]
    main()
