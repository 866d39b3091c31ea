"""The price of traces (issue 20): the server's own instructions per ``GET /`` under
callgrind (a plain client in another process, as ``bench_metrics.py``), with
OpenTelemetry in each state a deployment meets it:

- ``no-otel``: ``opentelemetry-api`` not installed (blocked at import);
- ``api-only``: the API installed, no SDK configured — what "nothing is recorded"
  must cost: ~nothing (target: within 1% of ``no-otel``);
- ``sdk-drop``: an SDK whose sampler drops every trace (spans made, not recorded);
- ``sdk-record``: an SDK recording every span to an exporter that throws them away.

Each figure is (5,000 - 1,000 requests) / 4,000, so start-up cancels out.

    python benchmarks/web/bench_tracing.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.web.bench_metrics import SERVER, server_instructions

MODES = ("no-otel", "api-only", "sdk-drop", "sdk-record")
SETUP = """
mode = sys.argv[2]
if mode == "no-otel":
    sys.modules["opentelemetry"] = None  # as if not installed
elif mode.startswith("sdk"):
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON

    class Discard(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    provider = TracerProvider(sampler=ALWAYS_ON if mode == "sdk-record" else ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(Discard()))
    trace.set_tracer_provider(provider)
"""
SCRIPT = SERVER.replace("import sys, gc\n", "import sys, gc\n" + SETUP, 1)


def per_request(mode: str) -> float:
    return (
        server_instructions(mode, 5000, SCRIPT) - server_instructions(mode, 1000, SCRIPT)
    ) / 4000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is missing: `make bench` installs it")
    found: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for mode in MODES:
            found.setdefault(mode, []).append(per_request(mode))
        line = ", ".join(f"{mode} {found[mode][-1]:,.0f}" for mode in MODES)
        print(f"server instructions per GET /: {line}", flush=True)
    base = min(found["no-otel"])
    for mode in MODES[1:]:
        ratio = min(found[mode]) / base
        print(f"  {mode:10} {ratio:.3f}x no-otel (mins of {args.rounds} rounds)", flush=True)
    share = min(found["api-only"]) / base - 1
    verdict = "meets" if share <= 0.01 else "MISSES"
    print(f"  without an SDK tracing costs {share * 100:+.1f}% (target <= 1%: {verdict})")


if __name__ == "__main__":
    main()
