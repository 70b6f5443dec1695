"""Turkish matching on real sentences, both ways (chalicelib/inbox/turkish.py documents the rule)."""
import pytest

from chalicelib.inbox.listening import Rule, contains_term, fold_text


def matches_tr(text: str, term: str) -> bool:
    return contains_term(fold_text(text, "tr"), term, "tr")


class TestNoFalseMatch:
    @pytest.mark.parametrize(("text", "term"), [
        ("Hafta sonu kıra çıktık, hava harikaydı.", "kir"),          # kır (countryside) is not kir (dirt)
        ("Gömleğimde kir lekesi kaldı.", "kır"),
        ("Su ılık olsun lütfen.", "ilik"),                         # ılık (lukewarm) is not ilik (marrow)
        ("Kemik iliği çorbası yaptık.", "ılık"),
        ("Çayıma seker misin diye sordu.", "şeker"),               # seker (it jumps) is not şeker (sugar)
        ("Bu kek çok şekerli değil.", "seker"),
        ("Üzüm çok güzeldi.", "uzum"),                             # ü is kept
        ("Kirli çamaşırları yıkadım.", "kir"),                     # -li makes another word
        ("Yazı tura attık.", "yazi"),
        ("Sıcak bir gün.", "sicak"),
    ])
    def test_words_that_differ_by_a_turkish_letter_do_not_match(self, text, term):
        assert not matches_tr(text, term)

    @pytest.mark.parametrize(("text", "term"), [
        ("Markaların hepsi burada.", "marka"),   # control: plural + genitive does match
    ])
    def test_control(self, text, term):
        assert matches_tr(text, term)

    @pytest.mark.parametrize(("text", "term"), [
        ("Heraldic bir arma.", "herald"),            # not a Turkish suffix
        ("Kahvecide buluşalım.", "kahve"),           # -ci is derivational
        ("Bu kararı verdik.", "kar"),
        ("Istanbul yazıldığında ı ile okunur.", "istanbul"),  # capital I is ı in Turkish
    ])
    def test_a_stem_inside_another_word_does_not_match(self, text, term):
        assert not matches_tr(text, term)


class TestNoMissedMatch:
    @pytest.mark.parametrize(("text", "term"), [
        ("İstanbul'da yeni mağazamız açıldı!", "istanbul"),
        ("İSTANBUL'DA yeni mağazamız açıldı!", "İstanbul"),
        ("Bu ürünü markamızdan aldınız mı?", "marka"),
        ("Herald'ın yeni sürümü çok hızlı.", "Herald"),
        ("Herald’ın yeni sürümü çok hızlı.", "herald"),               # typographic apostrophe
        ("Kahvelerimizi denediniz mi?", "kahve"),
        ("Kitapta yazıyor.", "kitap"),                                  # D after a voiceless consonant
        ("Ankara'dan selamlar", "ankara"),
        ("Mağazamızdaki indirim bitmeden gelin.", "mağaza"),
        ("Şekerlerimizin tadına bakın.", "şeker"),
        ("Kırda piknik yaptık.", "kır"),
        ("Ilık bir akşam.", "ılık"),
        ("Diyarbakır'a gidiyoruz.", "DİYARBAKIR"),
        ("Ürünlerimizden memnun musunuz?", "ürün"),
        ("Bu kahveyle güne başlıyorum.", "kahve"),
        ("Herald harika bir uygulama.", "herald"),
        ("Yeni kampanya: Herald Pro'yu deneyin", "herald pro"),
    ])
    def test_suffixed_words_match(self, text, term):
        assert matches_tr(text, term)


class TestRulesUseTheWorkspaceLanguage:
    def test_a_turkish_rule_keeps_letters_apart_and_follows_suffixes(self):
        rule = Rule("lr_1", "t", any_of=("şeker",), language="tr")
        assert rule.match("Şekerlerimiz tükendi", "ch_1") == ["şeker"]
        assert rule.match("seker seker oynadık", "ch_1") is None

    def test_without_a_language_the_old_folding_stays(self):
        rule = Rule("lr_1", "t", any_of=("şeker",))
        assert rule.match("seker", "ch_1") == ["şeker"]
        assert rule.match("Şekerlerimiz tükendi", "ch_1") is None


class TestFold:
    def test_capitals_fold_the_turkish_way(self):
        assert fold_text("İSTANBUL IĞDIR", "tr") == "istanbul ığdır"
        assert fold_text("kâr  Çiğ", "tr") == "kar çiğ"
