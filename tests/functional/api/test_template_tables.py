"""Every PynamoDB model finds its table, keys and indexes in what the packaged template made.

Runs on the template stack only (tests/functional/api/test_template_stack.py starts it), where the tables
were made by CloudFormation from the template and the models were named by the template's environment.
"""
from __future__ import annotations

import os
from typing import Any

import pytest

from tests.support.table_models import herald_models as models
from tests.support.template_stack import TEMPLATE_VARIABLE

pytestmark = pytest.mark.skipif(not os.environ.get(TEMPLATE_VARIABLE),
                                reason="runs on the template stack, from test_template_stack.py")



def keys(schema: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(part["AttributeName"], part["KeyType"]) for part in schema}


def test_every_model_finds_its_table_keys_and_indexes(aws: dict[str, Any]) -> None:
    found = models()
    assert len(found) >= 6
    tables = {name: aws["dynamodb"].describe_table(TableName=name)["Table"]
              for name in aws["dynamodb"].list_tables()["TableNames"]}
    used_indexes: set[tuple[str, str]] = set()
    for model in found:
        expected = model._get_schema()  # what `Model.create_table` would make
        table = tables.get(model.Meta.table_name)
        assert table is not None, f"{model.__name__}: no table {model.Meta.table_name}"
        assert keys(table["KeySchema"]) == keys(expected["key_schema"]), model.__name__
        types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        for definition in expected["attribute_definitions"]:
            assert types.get(definition["AttributeName"]) == definition["AttributeType"], (model.__name__,
                                                                                           definition)
        made = {index["IndexName"]: index for index in table.get("GlobalSecondaryIndexes", [])}
        for index in expected["global_secondary_indexes"]:
            name = index["index_name"]
            assert name in made, f"{model.__name__}: no index {name} on {model.Meta.table_name}"
            assert keys(made[name]["KeySchema"]) == keys(index["key_schema"]), (model.__name__, name)
            assert made[name]["Projection"]["ProjectionType"] == index["projection"]["ProjectionType"]
            assert (sorted(made[name]["Projection"].get("NonKeyAttributes", []))
                    == sorted(index["projection"].get("NonKeyAttributes", []))), (model.__name__, name)
            used_indexes.add((model.Meta.table_name, name))
        assert not expected["local_secondary_indexes"]
    made_indexes = {(name, index["IndexName"]) for name, table in tables.items()
                    for index in table.get("GlobalSecondaryIndexes", [])}
    assert made_indexes == used_indexes, "an index no model reads costs a write on every change"
