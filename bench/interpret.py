"""Time the pure interpreters on 1 MiB pathological bodies (``python -m bench.interpret``).

The prober caps bodies at ``max_body`` (1 MiB by default), so this is the worst
an interpreter has to read. Prints the best of 3 runs per kind and body.
"""

from __future__ import annotations

import random
import time

from lbhealth.interpret import INTERPRETERS, Answer, Rules

MIB = 1024 * 1024
#: Bodies that stress a parser: huge, dense, unclosed or repetitive. The tests
#: run every interpreter on each (for a verdict); this script times them.
BODIES = {
    "random": random.Random(1).randbytes(MIB),
    "table-rows": (b"<tr><td>EAAS</td><td>Remote Object is Alive</td></tr>\n" * 20000)[:MIB],
    "br-lines": (b"DX : Remote Object is Alive<br>\n" * 40000)[:MIB],
    "dense-tags": (b"<td>x" * MIB)[:MIB],
    "open-brackets": b"<" * MIB,
    "unclosed-tags": (b"<a" * MIB)[:MIB],
    "comments": (b"<!--" * MIB)[:MIB],
    "dotted": (b"a." * MIB)[:MIB],
    "newlines": b"\n" * MIB,
    "entities": (b"&amp;" * MIB)[:MIB],
    "stack-traces": (b"java.lang.NullPointerException\n\tat com.x.Y.z(Y.java:1)\n" * MIB)[:MIB],
    "error-words": (b"Error Exception HTTP Status http error " * MIB)[:MIB],
    "caused-by": (b"Caused by: Root Cause java.x.Y\n" * MIB)[:MIB],
    "comment-trace": (
        b"<p>ok</p><!--" + b"\tat com.x.Y.z(Y.java:1)\nCaused by: a.BError: x\n" * MIB
    )[:MIB],
}


def main() -> None:
    print(f"{'kind':<16} {'body':<14} {'best of 3 (ms)':>14}")
    worst = 0.0
    for kind, interpreter in INTERPRETERS.items():
        for name, body in BODIES.items():
            answer = Answer(200, [("Content-Type", "text/html")], body)
            runs = []
            for _ in range(3):
                start = time.perf_counter()
                interpreter(answer, Rules())
                runs.append(time.perf_counter() - start)
            best = min(runs) * 1000
            worst = max(worst, best)
            print(f"{kind:<16} {name:<14} {best:>14.1f}")
    print(f"worst case: {worst:.1f} ms per 1 MiB body")


if __name__ == "__main__":
    main()
