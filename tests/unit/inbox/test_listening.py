import pytest

from chalicelib.inbox.listening import Rule, contains_term, fold_text


def matches(text, **rule):
    return Rule("lr_1", "test", **{k: tuple(v) for k, v in rule.items()}).match(text, "ch_1")


class TestTurkish:
    @pytest.mark.parametrize("text", ["İSTANBUL şubemiz açıldı", "istanbul şubemiz", "Istanbul'da",
                                      "ıstanbul"])
    def test_every_spelling_of_i_matches(self, text):
        assert matches(text, any_of=["istanbul"]) == ["istanbul"]
        assert matches(text, any_of=["İSTANBUL"]) == ["İSTANBUL"]

    def test_dotless_and_dotted_capitals_match_their_lowercase(self):
        assert matches("DİYARBAKIR", any_of=["diyarbakır"])
        assert matches("diyarbakir", any_of=["DİYARBAKIR"])
        assert matches("IĞDIR", any_of=["ığdır"])

    def test_python_lower_would_have_missed_it(self):
        assert "İSTANBUL".lower() != "istanbul"  # a combining dot survives lower()
        assert fold_text("İSTANBUL") == "istanbul"


class TestCaseAndDiacritics:
    @pytest.mark.parametrize(("text", "term"), [
        ("Crème brûlée is back", "creme brulee"),
        ("CREME BRULEE", "Crème Brûlée"),
        ("Łódź store", "lodz"),
        ("Größe M", "grosse"),
        ("São Paulo", "sao paulo"),
        ("Ångström", "angstrom"),
        ("ﬁne coffee", "fine"),
        ("كَتَبَ", "كتب"),
    ])
    def test_case_and_marks_do_not_matter(self, text, term):
        assert matches(text, any_of=[term])

    def test_whitespace_inside_a_phrase_is_flexible(self):
        assert matches("new\n  york roast", any_of=["New York"])

    def test_marks_that_are_letters_are_kept(self):
        assert not matches("か", any_of=["が"])  # kana voicing changes the letter


class TestWords:
    def test_a_term_matches_whole_words_only(self):
        assert not matches("what a party", any_of=["art"])
        assert matches("state of the art!", any_of=["art"])
        assert matches("#herald rocks", any_of=["#herald"])
        assert not matches("#heraldry", any_of=["#herald"])

    def test_scripts_without_spaces_match_inside_words(self):
        assert matches("東京タワーに行きました", any_of=["タワー"])

    def test_an_empty_or_mark_only_term_never_matches(self):
        assert not contains_term(fold_text("anything"), "\u0301")


class TestRules:
    def test_any_of_needs_one_term(self):
        assert matches("I love herald coffee", any_of=["herald", "rival"]) == ["herald"]
        assert matches("nothing here", any_of=["herald", "rival"]) is None

    def test_all_of_needs_every_term(self):
        assert matches("Herald opens in Lisbon", all_of=["herald", "lisbon"]) == ["herald", "lisbon"]
        assert matches("Herald opens in Porto", all_of=["herald", "lisbon"]) is None

    def test_any_of_and_all_of_together(self):
        rule = {"any_of": ["coffee", "tea"], "all_of": ["herald"]}
        assert matches("herald tea", **rule) == ["tea", "herald"]
        assert matches("herald cake", **rule) is None
        assert matches("coffee and tea", **rule) is None

    def test_an_exclusion_vetoes_the_match(self):
        rule = {"any_of": ["herald"], "exclude": ["job", "hiring"]}
        assert matches("herald is great", **rule)
        assert matches("HERALD is HİRİNG", **rule) is None

    def test_channels_limit_where_a_rule_listens(self):
        rule = Rule("lr_1", "t", any_of=("herald",), channel_ids=("ch_2",))
        assert rule.match("herald", "ch_1") is None
        assert rule.match("herald", "ch_2") == ["herald"]

    def test_a_disabled_rule_or_one_without_terms_matches_nothing(self):
        assert Rule("lr_1", "t", any_of=("herald",), enabled=False).match("herald", "ch_1") is None
        assert Rule("lr_1", "t", exclude=("x",)).match("herald", "ch_1") is None
