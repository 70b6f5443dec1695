import pytest

from chalicelib.networks.tweet_length import MAX_WEIGHTED_LENGTH, fits, weighted_length


@pytest.mark.parametrize(
    "text, length",
    [
        ("", 0),
        ("hello", 5),
        ("a" * 280, 280),
        ("你好", 4),  # CJK weighs 2
        ("こんにちは", 10),
        ("\u2014 \u201cquoted\u201d", 10),  # dashes and quotes are in the light ranges
        ("https://example.com/a/very/long/path?with=query&and=more", 23),
        ("see example.com.", 28),  # a bare domain is a link; the full stop is not
        ("go to https://a.co, now", 34),
        ("www.example.org/menu", 23),
        ("foo.bar", 7),  # not a known domain
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", 2),  # one family emoji
        ("\U0001f1eb\U0001f1f7", 2),  # one flag
        ("\u2764\ufe0f", 2),
        ("1\ufe0f\u20e3", 2),
        ("\U0001f44d\U0001f3fd", 2),  # skin tone modifier
        ("e\u0301", 1),  # NFC makes it one code point
    ],
)
def test_weighted_length(text, length):
    assert weighted_length(text) == length


def test_the_limit_is_280_weighted():
    assert MAX_WEIGHTED_LENGTH == 280
    assert fits("a" * 280)
    assert not fits("a" * 281)
    assert fits("你" * 140)
    assert not fits("你" * 141)
    assert fits("https://example.com/" + "x" * 500 + " " + "a" * 256)
