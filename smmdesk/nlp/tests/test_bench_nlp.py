"""`smmdesk bench nlp` runs end to end at a small size (no reference data) and ends with its summary."""

import re

from smmdesk.bench import nlp

NUMBER = r"\d+(?:\.\d+)?"
SUMMARY = re.compile(
    rf"^nlp: classify fast {NUMBER} msg/s, refined {NUMBER} msg/s; route {NUMBER} msg/s \(embeddings computed\), "
    rf"{NUMBER} msg/s \(cached\)(; banking77 accuracy {NUMBER})?(; slovak mean F1\(neg,pos\) shipped {NUMBER})?$"
)


def test_the_message_pool_is_distinct_and_deterministic():
    pool = nlp.message_pool(5000)
    assert len(set(pool)) == 5000
    assert pool == nlp.message_pool(5000)


def test_summary_line():
    rates, routes = {"fast": 2500.4, "refined": 120.0}, {"computed": 110.0, "cached": 3000.0}
    line = nlp.summary(rates, routes, {"accuracy": 0.93733}, {"shipped": 0.7881})
    assert line == (
        "nlp: classify fast 2500 msg/s, refined 120 msg/s; route 110 msg/s (embeddings computed), 3000 msg/s "
        "(cached); banking77 accuracy 0.9373; slovak mean F1(neg,pos) shipped 0.788"
    )
    assert SUMMARY.match(line) and SUMMARY.match(nlp.summary(rates, routes, None, None))


def test_runs_without_reference_data():
    lines = []
    last = nlp.run_nlp(64, banking77="none", slovak="none", echo=lines.append)
    assert SUMMARY.match(last), last
    assert any(line.startswith("classify fast pass") for line in lines)
    assert any("router trained on 300 seed messages" in line for line in lines)
