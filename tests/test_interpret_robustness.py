"""No input makes an interpreter raise or crawl: garbage, binary, hostile markup, 1 MiB."""

from __future__ import annotations

import random

import pytest

from bench.interpret import BODIES
from lbhealth.interpret import INTERPRETERS, Answer, Rules, interpret
from lbhealth.text.clean import MAX_REASON
from lbhealth.verdict import Status
from tests._cases import answer

KINDS = sorted(INTERPRETERS)

WEIRD_MARKUP = [
    b"<",
    b"<<<>>>",
    b"<!--",
    b"<!-- unterminated <table><tr><td>DX</td><td>Remote Object is Alive</td>",
    b"<script>",
    b"<script>never closed <td>",
    b"<td><td><td></tr></tr></table></table>",
    b"</td></tr></table>",
    b"<table><table><table><tr>",
    b"<title>",
    b"<title></title>",
    b"<a href='>'>x</a>",
    b"&#xFFFFFFFF; &#0; &#55296; &bogus; &",
    b"<tr><td>\xff\xfe\x00\x00</td><td>\x93Remote Object is Alive\x94</td>",
    b"\xef\xbb\xbf\xef\xbb\xbf",
    b"\xff\xfe<\x00t\x00",
    b"\x00" * 100,
    b"Status: Connected",
    b"Process: \nStatus:",
    b": Remote Object is Alive",
    b"<pre>\n\n\n</pre>",
    b"<th></th><th></th>",
    "<td>\u202eDX</td><td>\u0130\u0130 Remote Object is Alive</td>".encode(),
]


def _check(outcome_answer: Answer, kind: str) -> None:
    outcome = interpret(kind, outcome_answer, Rules(require=("EAAS",)))
    assert isinstance(outcome.status, Status)
    assert len(outcome.reason) <= MAX_REASON
    assert "\n" not in outcome.reason


@pytest.mark.parametrize("kind", KINDS)
def test_random_bytes_never_raise(kind: str) -> None:
    rng = random.Random(f"lbhealth-{kind}")
    alphabet = b"<>/!-&#;:=\"' \n\t\rabtdrhpeixyz0123456789\x93\x94\xa0\xff"
    for _ in range(300):
        size = rng.choice([0, 1, 7, 64, 512, 4096])
        if rng.random() < 0.5:
            body = bytes(rng.getrandbits(8) for _ in range(size))
        else:
            body = bytes(rng.choice(alphabet) for _ in range(size))
        status = rng.choice([200, 302, 404, 500, 503, 0, 999])
        content_type = rng.choice(["text/html", "text/html; charset=utf-8", "x; charset=\xff", ""])
        _check(Answer(status, [("Content-Type", content_type)], body, rng.random() < 0.1), kind)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("body", WEIRD_MARKUP, ids=range(len(WEIRD_MARKUP)))
def test_weird_markup_never_raises(kind: str, body: bytes) -> None:
    _check(answer(body), kind)


def test_no_headers_at_all_is_fine() -> None:
    for kind in KINDS:
        _check(Answer(200, [], b"<html></html>"), kind)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", sorted(BODIES))
def test_one_mib_pathological_body_gets_a_verdict(kind: str, name: str) -> None:
    # Speed on these bodies is measured in bench/ (python -m bench.interpret), not here.
    _check(answer(BODIES[name]), kind)
