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
"""
from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.RLock()


def make_dynamodb_atomic() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "_herald_atomic", False):
        return
    original = DynamoHandler.call_action

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        with _LOCK:
            return original(self)

    call_action._herald_atomic = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]


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
    with _LOCK:
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
