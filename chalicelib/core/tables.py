"""How every PynamoDB model finds its table and declares its indexes: from settings, as infra/resources.py
names them."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from pynamodb.attributes import Attribute, ListAttribute, UnicodeAttribute
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, IncludeProjection, Projection
from pynamodb.models import MetaProtocol

from chalicelib.core.settings import MAX_POOL_CONNECTIONS, get_settings

_T = TypeVar("_T")


def table_meta(logical: str) -> MetaProtocol:
    settings = get_settings()

    class Meta:
        table_name = settings.table(logical)
        region = settings.region
        host = settings.aws_endpoint_url
        max_retry_attempts = 3
        max_pool_connections = MAX_POOL_CONNECTIONS

    # The model's metaclass fills in what the protocol lists beyond these (timeouts, extra headers, keys).
    return cast(MetaProtocol, Meta)


def index_meta(name: str, attributes: tuple[str, ...] = ()) -> type:
    """An index that projects `attributes` besides its keys, or every attribute when none are named."""
    chosen: Projection = IncludeProjection(list(attributes)) if attributes else AllProjection()

    class Meta:
        index_name = name
        projection = chosen

    return Meta


def string_list(default: Callable[[], list[str]] | None = None, null: bool | None = None) -> ListAttribute[str]:
    """A list of strings. PynamoDB types `ListAttribute(of=UnicodeAttribute)` as holding
    UnicodeAttribute objects (its `of` is `Type[_T]`); what it reads and writes are str."""
    return cast("ListAttribute[str]", ListAttribute(of=UnicodeAttribute, default=default, null=null))


def set_or_remove(attribute: Attribute[_T], value: _T | None) -> Action:
    """An update that sets the attribute, or removes it when value is None. PynamoDB's set(None)
    does remove it, but its types take no None."""
    return attribute.remove() if value is None else attribute.set(value)
