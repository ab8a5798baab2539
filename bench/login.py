"""How long a login check takes: a wrong password for a known user against an unknown user.

    python -m bench.login [--tries 20]

Both run one bcrypt check at the stored cost (the unknown user against a dummy
hash), so the two medians should be within noise of each other.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from auth.users import ROUNDS, UserStore
from bench.common import emit


def _times(check, tries: int) -> list[float]:
    out = []
    for _ in range(tries):
        started = time.perf_counter()
        check()
        out.append(time.perf_counter() - started)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.login")
    parser.add_argument("--tries", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        store = UserStore(Path(folder) / "credentials.yaml")
        store.add("owner", role="owner", password="the-right-password-1")
        store.verify("nobody", "warm-up")  # the dummy hash is made once per process
        cases = {
            "wrong_password": lambda: store.verify("owner", "a-wrong-password-1"),
            "unknown_user": lambda: store.verify("nobody", "a-wrong-password-1"),
            "right_password": lambda: store.verify("owner", "the-right-password-1"),
        }
        for case, check in cases.items():
            times = _times(check, args.tries)
            emit(bench="login", case=case, bcrypt_cost=ROUNDS, tries=args.tries,
                 median_ms=round(statistics.median(times) * 1000, 1),
                 min_ms=round(min(times) * 1000, 1), max_ms=round(max(times) * 1000, 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
