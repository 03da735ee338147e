"""Pages bounded by bytes as well as by limit: Lambda refuses a response over 6 MB (API Gateway's 502)."""

from __future__ import annotations

import json
from decimal import Decimal

from tracking_api import response_size
from tracking_api.response_size import LAMBDA_RESPONSE_LIMIT_BYTES, PAGE_BUDGET_BYTES, fitting, in_response


def test_an_item_counts_at_its_size_inside_the_body_string():
    # GIVEN items whose JSON needs escaping once more inside the proxy response's body string
    plain = {"a": 1}  # {"a":1} -> {\"a\":1}: 2 escaped quotes more, plus a comma
    accented = {"c": "é"}  # "é" is \u00e9 in the body, \\u00e9 in the response
    exact = {"n": Decimal("0.1000000000000000000000000001")}
    # WHEN measured / THEN exactly the bytes they take there, comma included
    assert in_response(plain) == len('{\\"a\\":1}') + 1 == 10
    assert in_response(accented) == len('{\\"c\\":\\"\\\\u00e9\\"}') + 1 == 20
    assert in_response(exact) == len('{\\"n\\":0.1000000000000000000000000001}') + 1


def test_fitting_stops_before_the_budget_is_passed():
    # GIVEN three items of 10 bytes each in the response
    items = [{"a": 1}] * 3
    # THEN all fit in exactly their sum, one fewer in a byte less, and a page is never empty
    assert fitting(items, budget=30) == 3
    assert fitting(items, budget=29) == 2
    assert fitting(items, budget=10) == 1
    assert fitting(items, budget=9) == 1
    assert fitting([], budget=0) == 0


def test_the_budget_leaves_a_mebibyte_of_headroom_under_lambdas_limit():
    assert LAMBDA_RESPONSE_LIMIT_BYTES == 6 * 1024 * 1024
    assert PAGE_BUDGET_BYTES == LAMBDA_RESPONSE_LIMIT_BYTES - 1024 * 1024
    assert response_size.fitting.__defaults__ == (PAGE_BUDGET_BYTES,)


def test_the_measure_is_what_a_proxy_response_carries():
    # GIVEN a body of items as the handler writes it, inside a proxy response as the runtime writes it
    items = [{"tracking_id": f"T{n}", "metadata": {"note": "\u00e9\"\\\n" * n}} for n in range(20)]
    from tracking_api.jsonwriter import dumps

    response = json.dumps({"statusCode": 200, "body": dumps({"updates": items})})
    envelope = json.dumps({"statusCode": 200, "body": dumps({"updates": []})})
    # THEN the items' measures add up to what they add to the response (one comma fewer)
    assert sum(in_response(item) for item in items) - 1 == len(response) - len(envelope)


ADVERSARIAL = [
    {"q": '"' * 50, "b": "\\" * 50},
    {"c": "\u0001\u001f\n\t" * 20},
    {"u": "é中😀" * 20},
    {"n": [Decimal("9.99E+125"), Decimal("-1E-130"), Decimal("0.1000000000000000000000000000000000001")]},
    {"i": 12345678901234567890123456789012345678, "f": Decimal("12.5"), "t": True, "z": None},
]


def test_the_one_pass_bound_is_never_below_the_exact_measure():
    # GIVEN items that stress every escaping rule and the longest numbers DynamoDB stores
    for item in ADVERSARIAL:
        # THEN the cheap bound is at least the exact size, alone and in a page
        assert response_size.upper_bound([item]) >= in_response(item), item
    assert response_size.upper_bound(ADVERSARIAL) >= sum(in_response(item) for item in ADVERSARIAL)


def test_the_fast_path_and_the_exact_count_agree_at_every_budget():
    # GIVEN a page of adversarial items / WHEN cut at every budget around their sizes
    sizes = [in_response(item) for item in ADVERSARIAL]
    for budget in range(0, sum(sizes) + 2):
        # THEN the count is the longest prefix whose exact sizes fit (at least one)
        expected = max(1, max(n for n in range(len(sizes) + 1) if sum(sizes[:n]) <= budget))
        assert fitting(ADVERSARIAL, budget) == expected, budget
