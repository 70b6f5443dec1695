import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.services.saved_replies import placeholders, render


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
