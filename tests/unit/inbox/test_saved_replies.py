import pytest

from chalicelib.core.errors import ValidationFailed
from chalicelib.inbox.saved_replies import placeholders, render


def test_placeholders_are_names_in_braces_in_order_once():
    assert placeholders("Hi {first_name}, {first_name}! Order {order_id} {not a name} {1x}") == [
        "first_name", "order_id"]


def test_values_are_inserted_as_they_are():
    assert render("Hi {name}", {"name": "{order_id} & co"}) == "Hi {order_id} & co"


def test_a_text_without_placeholders_needs_nothing():
    assert render("Thanks for writing {}", {}) == "Thanks for writing {}"


@pytest.mark.parametrize("variables", [{}, {"first_name": ""}, {"first_name": "   "}, {"name": "Ada"}])
def test_a_missing_or_blank_variable_is_refused_with_its_name(variables):
    with pytest.raises(ValidationFailed) as raised:
        render("Hi {first_name}, about {order}", {**variables, "order": "A-1"})
    assert raised.value.details == [
        {"field": "variables.first_name", "message": "required by the saved reply"}]


def test_placeholder_names_are_unicode():
    text = "Merhaba {İsim}, {şehir} şubemize hoş geldiniz. {adı_soyadı} / {नाम} / {_id} / {1x} / {a-b} / {x y}"
    assert placeholders(text) == ["İsim", "şehir", "adı_soyadı", "नाम", "_id"]
    filled = render(text, {"İsim": "Ayşe", "şehir": "İzmir", "adı_soyadı": "Ayşe Yılmaz", "नाम": "Asha", "_id": "7"})
    assert filled == "Merhaba Ayşe, İzmir şubemize hoş geldiniz. Ayşe Yılmaz / Asha / 7 / {1x} / {a-b} / {x y}"


def test_a_placeholder_name_is_the_same_composed_or_decomposed():
    decomposed = "I\u0307sim"  # I + COMBINING DOT ABOVE, as some keyboards send İ
    assert placeholders("{İsim} {" + decomposed + "}") == ["İsim"]
    assert render("Merhaba {" + decomposed + "}", {"İsim": "Ayşe"}) == "Merhaba Ayşe"
    assert render("Merhaba {İsim}", {decomposed: "Ayşe"}) == "Merhaba Ayşe"


def test_a_missing_unicode_variable_is_named():
    with pytest.raises(ValidationFailed) as raised:
        render("Merhaba {İsim}", {"isim": "Ayşe"})
    assert raised.value.details == [{"field": "variables.İsim", "message": "required by the saved reply"}]
