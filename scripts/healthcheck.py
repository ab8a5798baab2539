"""The container's health check: ``python scripts/healthcheck.py [app|worker]``.

Asks the readiness route of the app (``/health/ready`` on PORT, default 8501)
or of the worker (``/health`` on WORKER_PORT, default 8502) and exits 0 when
it answers 200, else 1 with the answer (which part failed, and why) on
standard output, where ``docker inspect`` shows it.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    role = argv[1] if len(argv) > 1 else "app"
    if role == "worker":
        url = f"http://127.0.0.1:{os.environ.get('WORKER_PORT', '8502')}/health"
    else:
        url = f"http://127.0.0.1:{os.environ.get('PORT', '8501')}/health/ready"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - this container's own http port
            print(answer.read().decode("utf-8", "replace"))
            return 0
    except urllib.error.HTTPError as exc:
        print(f"{exc.code}: {exc.read().decode('utf-8', 'replace')}")
    except OSError as exc:
        print(f"{url} does not answer: {exc}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
