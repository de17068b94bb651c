"""PartiQL statements are stored as what they do and to which table, never as the statement (it holds data)."""

from __future__ import annotations

import pytest

from accessfit.model import ResourceRef
from accessfit.records.decode import decode
from accessfit.records.partiql import statement_target
from accessfit.records.resources import resource_of
from helpers import doc, rec


@pytest.mark.parametrize(
    ("statement", "target"),
    [
        ('SELECT * FROM "orders" WHERE pk = ?', "select:orders"),
        ("select a, b from orders where pk = 'x'", "select:orders"),
        ('SELECT * FROM "orders"."by-customer"', "select:orders/index/by-customer"),
        ('EXISTS(SELECT * FROM "stock" WHERE sku = ?)', "select:stock"),
        ("  INSERT INTO \"Music\" VALUE {'Artist': ?}", "insert:Music"),
        ('UPDATE "a""b" SET x = 1 WHERE k = 2', 'update:a"b'),
        ("DELETE FROM sessions WHERE pk = ?", "delete:sessions"),
        ("SELECT 1", "select:"),  # the verb, no table
        ("DROP TABLE orders", None),
        ("", None),
    ],
)
def test_statement_targets(statement: str, target: str | None) -> None:
    assert statement_target(statement) == target


def test_the_identifier_keeps_the_targets_not_the_statements() -> None:
    private = "SELECT * FROM \"users\" WHERE email = 'alice@example.com'"
    record = decode(doc([rec("ExecuteStatement", "dynamodb.amazonaws.com", params={"statement": private})]), 1 << 20)
    text = resource_of(record.records[0])
    assert ResourceRef(text).fields == {"partiql": ["select:users"], "region": "us-east-1"}
    assert "alice" not in text
    batch = [{"statement": 'DELETE FROM "t" WHERE k = 1'}, {"statement": "GRANT nothing"}, {"parameters": []}]
    record = decode(
        doc([rec("BatchExecuteStatement", "dynamodb.amazonaws.com", params={"statements": batch})]), 1 << 20
    )
    assert ResourceRef(resource_of(record.records[0])).fields["partiql"] == ["?", "delete:t"]
