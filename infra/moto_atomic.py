"""Makes moto's DynamoDB behave like the real service where Herald relies on it.

1. Atomic requests. moto evaluates a ConditionExpression and then writes, with
   no lock between the two: two threads can both pass `status = queued` and both
   claim a delivery. Real DynamoDB never allows that, and exactly-once publishing
   rests on it, so DynamoDB requests are serialised.
2. Transactions at the cost of their items. moto deep-copies every table a
   transaction touches, to roll back on failure, which makes each transaction
   cost the size of the table (quadratic over a burst). Here every condition is
   checked first and nothing is written unless all pass, as DynamoDB does; the
   lock above keeps the two phases together.
3. Queries at the cost of their partition. moto answers a Query on a table's own
   key by sorting every item of the table, then keeping the partition's: each read
   of a post would cost the whole table (quadratic over a burst: 5,000 deliveries
   took the local stack minutes per hundred). Here it looks only at the partition,
   as DynamoDB does. Queries on an index still read the whole table.
"""
from __future__ import annotations

import functools
import inspect
import threading
from typing import Any

# The partition a Query on a table's own key is looking at, while it runs.
_QUERIED = threading.local()

# One DynamoDB request at a time. Re-entrant: a wrapper that must see a request's
# items before and after it (infra/local/dynamodb_meter.py) holds it around this one.
LOCK = threading.RLock()


def make_dynamodb_atomic() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "_herald_atomic", False):
        return
    original = DynamoHandler.call_action

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        with LOCK:
            return original(self)

    call_action._herald_atomic = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    _query_one_partition()


def _query_one_partition() -> None:
    from moto.dynamodb.models.table import Table

    query, all_items = Table.query, Table.all_items
    signature = inspect.signature(query)

    @functools.wraps(query)
    def query_partition(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        if arguments.get("index_name") or arguments.get("hash_key") is None:
            return query(self, *args, **kwargs)
        _QUERIED.target = (self, arguments["hash_key"])
        try:
            return query(self, *args, **kwargs)
        finally:
            _QUERIED.target = None

    @functools.wraps(all_items)
    def items_of_partition(self: Any) -> Any:
        table, hash_key = getattr(_QUERIED, "target", None) or (None, None)
        if table is not self:
            return all_items(self)
        partition = self.items.get(hash_key)  # .get: the table's defaultdict must not grow
        if partition is None:
            return []
        return list(partition.values()) if self.range_key_attr else [partition]

    Table.query = query_partition  # type: ignore[method-assign]
    Table.all_items = items_of_partition  # type: ignore[method-assign]


def _key_of(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _check(backend: Any, items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    from moto.dynamodb.comparisons import get_filter_expression as filter_expression
    from moto.dynamodb.exceptions import MultipleTransactionsException, TransactWriteSingleOpException

    seen: set[tuple[str, str]] = set()
    errors: list[tuple[Any, Any, Any]] = []
    for item in items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        key = _key_of(backend, op_type, op)
        marker = (op["TableName"], str(dict(sorted(key.items()))))
        if marker in seen:
            raise MultipleTransactionsException()
        seen.add(marker)
        condition = op.get("ConditionExpression")
        if condition is None:
            errors.append((None, None, None))
            continue
        current = backend.get_item(op["TableName"], key)
        check = filter_expression(condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues"))
        if check.expr(current):
            errors.append((None, None, None))
        else:
            old = current.to_json()["Attributes"] if (
                current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD") else None
            errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
    return errors


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.exceptions import TooManyTransactionsException, TransactionCanceledException

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with LOCK:
        errors = _check(self, transact_items)
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        for item in transact_items:
            op_type, op = next(iter(item.items()))
            if op_type == "Put":
                self.put_item(op["TableName"], op["Item"])
            elif op_type == "Delete":
                self.delete_item(op["TableName"], op["Key"])
            elif op_type == "Update":
                self.update_item(op["TableName"], op["Key"], update_expression=op["UpdateExpression"],
                                 expression_attribute_names=op.get("ExpressionAttributeNames"),
                                 expression_attribute_values=op.get("ExpressionAttributeValues"))
