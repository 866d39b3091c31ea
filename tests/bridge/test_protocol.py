"""The bridge's operations are one table (``protocol.OPERATIONS``): the JS client must
implement exactly those, read exactly their fields, and send exactly the messages the
server decodes — so a new operation cannot be added on one side only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import geetrio.bridge
from geetrio.bridge.protocol import CALL_ANSWERS, OPERATIONS, PAGE_MESSAGES, operation

CLIENT_JS = (Path(geetrio.bridge.__file__).parent / "client.js").read_text()


def js_operations() -> dict[str, set[str]]:
    """Each entry of client.js's ``operations`` object: the ``m.<field>`` it reads."""
    body = CLIENT_JS.split("const operations = {", 1)[1].split("\n  };", 1)[0]
    entries = re.split(r"\n    (?=\w+: \()", "\n" + body)
    found = {}
    for entry in entries:
        match = re.match(r"(\w+): \(", entry.strip())
        if match:
            found[match.group(1)] = set(re.findall(r"\bm\.(\w+)", entry))
    return found


def test_the_client_implements_each_operation_with_its_fields() -> None:
    implemented = js_operations()
    assert set(implemented) == set(OPERATIONS)
    for op, spec in OPERATIONS.items():
        assert implemented[op] == set(spec.fields), op


def test_the_client_sends_what_the_server_decodes_and_reads_its_answers() -> None:
    sent = set(re.findall(r'send\(\{[^}]*\bop: "(\w+)"', CLIENT_JS))
    assert sent == set(PAGE_MESSAGES)
    answers = set(re.findall(r'm\.op === "(\w+)"', CLIENT_JS))
    assert answers == set(CALL_ANSWERS)


def test_requests_are_built_from_the_table() -> None:
    assert operation("get", selector="#num", prop="value") == {
        "op": "get",
        "selector": "#num",
        "prop": "value",
    }
    with pytest.raises(ValueError, match="no operation 'eval'"):
        operation("eval", code="alert(1)")
    with pytest.raises(ValueError, match="set takes selector, prop, value"):
        operation("set", selector="#ans", prop="innerHTML")
