"""Keys and indexes are declared twice, in the PynamoDB models (each feature's `tables` and `*_repository`
modules) and in the table definitions the template and the local stack make (infra/resources.py): here they
are checked against
each other, without AWS. tests/functional/api/test_template_tables.py checks the same on the tables the
packaged template made, on the template stack only."""
from __future__ import annotations

import copy
from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute
from pynamodb.models import Model

from chalicelib.core.settings import TABLES, get_settings, resource_name
from infra.resources import table_resource
from tests.support.table_models import herald_models

Props = dict[str, Any]



def declared_tables() -> dict[str, Props]:
    """Each table's properties in infra/resources.py, by the name the models are given for it."""
    settings = get_settings()
    return {settings.table(logical): table_resource(settings.stage, logical)["Properties"] for logical in TABLES}


def _keys(schema: list[dict[str, str]]) -> dict[str, str]:
    return dict(sorted((part["KeyType"], part["AttributeName"]) for part in schema))  # HASH, then RANGE


def _projection(projection: dict[str, Any]) -> tuple[str, list[str]]:
    return projection["ProjectionType"], sorted(projection.get("NonKeyAttributes", []))


def _index_mismatches(where: str, kind: str, made: dict[str, Props], wanted: list[dict[str, Any]]) -> list[str]:
    found = []
    for index in wanted:
        name = index["index_name"]
        table_index = made.get(name)
        if table_index is None:
            found.append(f"{where}: no {kind} {name} in infra/resources.py")
            continue
        if _keys(table_index["KeySchema"]) != _keys(index["key_schema"]):
            found.append(f"{where}: {kind} {name} keys {_keys(table_index['KeySchema'])} in infra/resources.py, "
                         f"{_keys(index['key_schema'])} in the model")
        found += _projection_mismatches(f"{where}: {kind} {name}", table_index["Projection"], index["projection"])
    return found


def _projection_mismatches(where: str, made: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    (made_type, made_attrs), (wanted_type, wanted_attrs) = _projection(made), _projection(wanted)
    if made_type != wanted_type:
        return [f"{where} projects {made_type} in infra/resources.py, {wanted_type} in the model"]
    found = []
    if sorted(set(made_attrs) - set(wanted_attrs)):
        found.append(f"{where} projects {sorted(set(made_attrs) - set(wanted_attrs))} in infra/resources.py "
                     "only")
    if sorted(set(wanted_attrs) - set(made_attrs)):
        found.append(f"{where} projects {sorted(set(wanted_attrs) - set(made_attrs))} in the model only")
    return found


def _ttl_mismatches(name: str, props: Props, models: list[type[Model]]) -> list[str]:
    declared = (props.get("TimeToLiveSpecification") or {}).get("AttributeName")
    found = [f"{name}: {model.__name__} has a TTLAttribute {attr.attr_name}, the table's TTL is {declared}"
             for model in models for attr in model.get_attributes().values()
             if isinstance(attr, TTLAttribute) and attr.attr_name != declared]
    if declared:
        numeric = [model for model in models for attr in model.get_attributes().values()
                   if attr.attr_name == declared and isinstance(attr, NumberAttribute | TTLAttribute)]
        if not numeric:
            found.append(f"{name}: TTL on {declared}, which no model of the table declares as a number "
                         "(so nothing writes it and nothing expires)")
    return found


def _model_mismatches(model: type[Model], props: Props) -> list[str]:
    where = f"{model.__name__} ({props['TableName']})"
    schema = model._get_schema()  # what `Model.create_table` would make
    found = []
    if _keys(props["KeySchema"]) != _keys(schema["key_schema"]):
        found.append(f"{where}: keys {_keys(props['KeySchema'])} in infra/resources.py, "
                     f"{_keys(schema['key_schema'])} in the model")
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    for definition in schema["attribute_definitions"]:
        name, wanted = definition["AttributeName"], definition["AttributeType"]
        if types.get(name) != wanted:
            found.append(f"{where}: key attribute {name} is {types.get(name)} in infra/resources.py, "
                         f"{wanted} in the model")
    found += _index_mismatches(where, "global index", _by_name(props, "GlobalSecondaryIndexes"),
                               schema["global_secondary_indexes"])
    found += _index_mismatches(where, "local index", _by_name(props, "LocalSecondaryIndexes"),
                               schema["local_secondary_indexes"])
    return found


def _by_name(props: Props, kind: str) -> dict[str, Props]:
    return {index["IndexName"]: index for index in props.get(kind, [])}


def _unread_mismatches(name: str, props: Props, models: list[type[Model]]) -> list[str]:
    """What the table declares and no model reads: an index costs a write on every change."""
    read_indexes = {index["index_name"] for model in models for kind in ("global", "local")
                    for index in model._get_schema()[f"{kind}_secondary_indexes"]}
    unread = sorted({*_by_name(props, "GlobalSecondaryIndexes"), *_by_name(props, "LocalSecondaryIndexes")}
                    - read_indexes)
    defined = {a["AttributeName"] for a in props["AttributeDefinitions"]}
    keyed = {a["AttributeName"] for model in models for a in model._get_schema()["attribute_definitions"]}
    found = [f"{name}: index {index} in infra/resources.py, in no model" for index in unread]
    found += [f"{name}: attribute {attr} defined in infra/resources.py, a key of no model"
              for attr in sorted(defined - keyed)]
    return found


def _distinct_schemas(models: list[type[Model]]) -> list[type[Model]]:
    """One model per schema: an item class (`PostRecord`) has its base's keys and indexes."""
    seen: dict[str, type[Model]] = {}
    for model in models:
        seen.setdefault(repr(model._get_schema()), model)
    return list(seen.values())


def mismatches(models: list[type[Model]], tables: dict[str, Props]) -> list[str]:
    """Every disagreement between the models and the table definitions, one sentence each."""
    found = [f"{model.__name__}: its table {model.Meta.table_name} is not in infra/resources.py"
             for model in models if model.Meta.table_name not in tables]
    for name, props in tables.items():
        on_table = [model for model in models if model.Meta.table_name == name]
        if not on_table:
            found.append(f"{name}: in infra/resources.py, read by no model")
            continue
        for model in _distinct_schemas(on_table):
            found += _model_mismatches(model, props)
        found += _ttl_mismatches(name, props, on_table)
        found += _unread_mismatches(name, props, on_table)
    return found


def test_every_model_and_its_table_declare_the_same_keys_indexes_and_ttl() -> None:
    models = herald_models()
    assert models, "no PynamoDB model found in chalicelib"
    found = mismatches(models, declared_tables())
    assert not found, "\n".join(found)


# The checker itself, on altered copies of the table definitions: each change is named.


def _altered(logical: str) -> tuple[dict[str, Props], Props]:
    tables = copy.deepcopy(declared_tables())
    return tables, tables[get_settings().table(logical)]


def test_an_index_projecting_other_attributes_than_its_model_is_named() -> None:
    tables, posts = _altered("posts")
    due = next(index for index in posts["GlobalSecondaryIndexes"] if index["IndexName"] == "due")
    due["Projection"]["NonKeyAttributes"].remove("claim_token")

    found = mismatches(herald_models(), tables)

    assert any("global index due projects" in line and "claim_token" in line for line in found), found


def test_a_range_key_other_than_the_models_is_named() -> None:
    tables, channels = _altered("channels")
    channels["KeySchema"][1]["AttributeName"] = "name"

    found = mismatches(herald_models(), tables)

    assert any(line.startswith("ChannelRecord") and "keys" in line for line in found), found


def test_an_index_no_model_reads_and_a_table_no_model_uses_are_named() -> None:
    tables, workspaces = _altered("workspaces")
    workspaces["GlobalSecondaryIndexes"].append(copy.deepcopy(workspaces["GlobalSecondaryIndexes"][0]))
    workspaces["GlobalSecondaryIndexes"][-1]["IndexName"] = "by_nothing"
    spare = resource_name(get_settings().stage, "spare")
    tables[spare] = copy.deepcopy(workspaces)

    found = mismatches(herald_models(), tables)

    assert any("index by_nothing in infra/resources.py, in no model" in line for line in found), found
    assert f"{spare}: in infra/resources.py, read by no model" in found


def test_a_ttl_on_an_attribute_no_model_writes_is_named() -> None:
    tables, channels = _altered("channels")
    channels["TimeToLiveSpecification"] = {"AttributeName": "gone_at", "Enabled": True}

    found = mismatches(herald_models(), tables)

    assert any("TTL on gone_at" in line for line in found), found
