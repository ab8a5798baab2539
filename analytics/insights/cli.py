"""``python -m analytics insights``: the grounded summary of a range, in the terminal or as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from analytics.insights.providers import PROVIDERS


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "insights", help="write the grounded summary of a range (offline, OpenAI or Anthropic)",
        description="Write what changed over the inclusive store-local days FROM to TO against the period "
                    "before, why, and what to do, from the computed figures. Every number of the text is "
                    "checked against those figures; unmatched numbers are flagged. Without a key, or when "
                    "the provider fails, the offline writer answers and says why.",
    )
    parser.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD", help="first day (store time)")
    parser.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD", help="last day, included")
    parser.add_argument("--provider", choices=PROVIDERS,
                        help="who writes (default: the choice in Settings, else INSIGHTS_PROVIDER)")
    parser.add_argument("--model", help="model name (default: the choice in Settings, else OPENAI_MODEL / "
                                        "ANTHROPIC_MODEL)")
    parser.add_argument("--store", help="store id (default: STORE_ID, else demo, else the only store)")
    parser.add_argument("--db", help="warehouse URL (default: DATABASE_URL or the embedded file)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object: provider, model, text, ungrounded_numbers, fallback_reason")
    parser.add_argument("--no-cache", action="store_true", help="ask the provider even when these facts were "
                                                                 "answered before")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analytics.insights.service import write_insight
    from analytics.report import ReportError, command_target

    try:
        with command_target(args) as (wh, store, start, end):
            stream = None if args.json else (lambda piece: print(piece, end="", flush=True))
            insight = write_insight(wh, store.store_id, start, end, provider=args.provider, model=args.model,
                                    on_text=stream, use_cache=not args.no_cache)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(insight.to_json(), ensure_ascii=False, indent=2))
        return 0
    print()
    if insight.fallback_reason:
        print(f"note: {insight.fallback_reason}", file=sys.stderr)
    if insight.ungrounded_numbers:
        print(f"warning: {len(insight.ungrounded_numbers)} numbers match no computed figure: "
              f"{', '.join(insight.ungrounded_numbers)}", file=sys.stderr)
    where = "cached answer of" if insight.cached else "written by"
    print(f"({where} {insight.provider}, {insight.model}; {insight.numbers_checked} numbers checked)",
          file=sys.stderr)
    return 0
