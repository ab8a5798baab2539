"""A local BigQuery (the bqemulator package: BigQuery's REST API on DuckDB) for the official client.

The emulator runs in a thread of the test process on a port of its own. It
would download DuckDB's spatial extension at start; with no network it is
skipped (nothing here needs geography types).
"""

from __future__ import annotations

import asyncio
import threading


class BigQueryEmulator:
    """``start()``, then point ``google.cloud.bigquery.Client`` at ``url``; ``stop()`` at the end."""

    def __init__(self) -> None:
        from bqemulator.config import PersistenceMode, Settings
        from bqemulator.server import EmulatorServer
        from bqemulator.storage import engine

        engine.DuckDBEngine._load_spatial = lambda self: None
        self.settings = Settings(persistence_mode=PersistenceMode.EPHEMERAL, rest_host="127.0.0.1", rest_port=0,
                                 grpc_host="127.0.0.1", grpc_port=0, log_level="warning")
        self.server = EmulatorServer(self.settings)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bigquery-emulator", daemon=True)

    @property
    def url(self) -> str:
        return self.server.rest_url

    def start(self, timeout: float = 60) -> "BigQueryEmulator":
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the BigQuery emulator did not start within {timeout:.0f} s")
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
            except Exception:  # noqa: BLE001 - stopping is best effort
                pass
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except BaseException as exc:  # noqa: BLE001 - raised again in start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
