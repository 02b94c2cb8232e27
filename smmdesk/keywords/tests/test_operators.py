import pytest

from smmdesk.keywords.operators import parse, plain


def flags(query):
    return [(w.text, w.fixed_form, w.required, w.ordered) for w in query.words]


def test_exact_phrase():
    query = parse('"Женская стрижка"')
    assert query.exact and not query.ordered
    assert query.text == "женская стрижка"
    assert query.has_operators


def test_fixed_form_and_required_stop_word():
    query = parse("!стрижка +в оренбурге")
    assert flags(query) == [
        ("стрижка", True, False, False),
        ("в", False, True, False),
        ("оренбурге", False, False, False),
    ]
    assert query.text == "стрижка в оренбурге"


def test_minus_words_are_dropped_from_the_text():
    query = parse("стрижка -бесплатно -!курсы")
    assert query.text == "стрижка"
    assert query.minus == ("бесплатно", "курсы")


@pytest.mark.parametrize(
    ("raw", "minus"),
    [('стрижка -"своими руками"', ("своими руками",)), ("стрижка -[на дому]", ("на дому",))],
)
def test_minus_groups(raw, minus):
    query = parse(raw)
    assert query.text == "стрижка"
    assert query.minus == minus
    assert not query.exact and not query.ordered


def test_order_brackets_inside_quotes():
    query = parse('"[!купить !билет]" москва')
    assert query.exact and query.ordered
    assert flags(query)[:2] == [("купить", True, False, True), ("билет", True, False, True)]
    assert flags(query)[2] == ("москва", False, False, False)


def test_plain_query_without_operators():
    query = parse("мужская стрижка  цена")
    assert not query.has_operators
    assert query.text == "мужская стрижка цена"


@pytest.mark.parametrize("raw", ["", "---", '"', "[[", "+ ! -", None])
def test_garbage_never_raises(raw):
    assert parse(raw).text == ""


def test_unclosed_quote_is_closed_at_the_end():
    assert plain('"незакрытая кавычка') == "незакрытая кавычка"


def test_hyphenated_words_are_kept():
    assert plain("hair-style ideas -cheap") == "hair-style ideas"
