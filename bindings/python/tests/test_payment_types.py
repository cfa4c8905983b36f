"""The payment types fit the API (issue 12): the members the API always sends
are not Optional, in the full object (FullPayment) and in the restricted one
(RestrictedPayment), as the reference's lists in
Tests/reference/payment-fields.json say; a success without one of them is
an InvalidResponseError; repr and str never show the payment token or the
customer id; to_dict() goes through json.dumps and back.

The secret values are only ever compared, never printed: an assertion that
fails says what leaked, not its value."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any, Dict, List

import pytest

from conftest import BINDING_DIR, Faults, Sandbox, payment_json

import kasko
from kasko import _payment


def attribute_of(field: str) -> str:
    return field.lstrip("_")


def invoice(client: kasko.Client, offer: Dict[str, str]) -> kasko.Payment:
    return client.create_payment(
        token=offer["token"], provider="invoice", method="invoice", policy_id=offer["policy_id"]
    )


def optional(hint: Any) -> bool:
    """Whether a type hint admits None."""
    return hint is type(None) or type(None) in typing.get_args(hint)


def restricted_json(payment_id: str, fields: List[str]) -> Dict[str, Any]:
    full = payment_json(payment_id)
    return {field: full[field] for field in fields}


def assert_secrets_hidden(text: str, payment: kasko.Payment, what: str) -> None:
    """Neither the payment token nor the customer id is in `text` (and the
    assertion messages never quote them)."""
    for name in ("token", "customer_id"):
        value = payment.raw.get(name)
        if isinstance(value, str) and value:
            leaked = value in text
            assert not leaked, f"{what} shows the payment's {name}"


# -- the types, against the reference's lists ----------------------------------


def test_the_shapes_are_the_reference_lists(payment_fields: Dict[str, List[str]]) -> None:
    # The binding's own copy (it cannot read Tests/ once installed) is the
    # reference's: the restricted members, and nullable ones among the rest.
    assert list(_payment._EVERY) == payment_fields["restricted"]
    assert set(_payment._NULLABLE) <= set(payment_fields["full"]) - set(payment_fields["restricted"])
    assert [key for key, _, _ in _payment._RESTRICTED_CHECKS] == payment_fields["restricted"]
    assert [key for key, _, _ in _payment._FULL_CHECKS] == [
        field for field in payment_fields["full"] if field not in _payment._NULLABLE
    ]


def test_the_always_sent_members_are_not_optional(payment_fields: Dict[str, List[str]]) -> None:
    full, restricted = payment_fields["full"], payment_fields["restricted"]
    hints = {cls: typing.get_type_hints(cls) for cls in
             (kasko.Payment, kasko.FullPayment, kasko.RestrictedPayment)}
    for field in full:
        name = attribute_of(field)
        # Every payment has the restricted members.
        for cls in hints:
            assert optional(hints[cls][name]) == (field not in restricted and cls is not kasko.FullPayment
                                                  or field in _payment._NULLABLE), (cls, name)
        # A restricted payment has nothing else.
        if field not in restricted:
            assert hints[kasko.RestrictedPayment][name] is type(None), name
    assert set(hints[kasko.FullPayment]) == {attribute_of(f) for f in full} | {"raw"}


def test_mypy_and_pyright_see_the_types(tmp_path: Path) -> None:
    # What the types promise, as a type checker sees it: payment.id is a str
    # (the README's client.get_payment(payment.id)), the full object's token
    # and customer id are str, and a restricted payment's policy_id is None.
    good = tmp_path / "good.py"
    good.write_text(
        "import json\n"
        "import kasko\n"
        "def use(client: kasko.Client) -> str:\n"
        "    payment = client.create_payment(token='t', provider='p', method='m', policy_id='x')\n"
        "    viewed: kasko.FullPayment = client.get_payment(payment.id)\n"
        "    status: str = payment.status\n"
        "    token: str = viewed.token\n"
        "    customer: str = viewed.customer_id\n"
        "    fee: float = viewed.fee\n"
        "    charge: 'str | None' = viewed.charge_id\n"
        "    links: 'dict[str, object]' = payment.links\n"
        "    if isinstance(payment, kasko.RestrictedPayment):\n"
        "        none: None = payment.policy_id\n"
        "        return status + str(none)\n"
        "    if isinstance(payment, kasko.FullPayment):\n"
        "        policy: str = payment.policy_id\n"
        "        return policy\n"
        "    return json.dumps(viewed.to_dict()) + token + customer + str(fee) + str(charge) + str(links)\n"
    )
    # ... and what they do not: a created payment may be the restricted one.
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import kasko\n"
        "def use(client: kasko.Client) -> str:\n"
        "    payment = client.create_payment(token='t', provider='p', method='m', policy_id='x')\n"
        "    policy: str = payment.policy_id\n"
        "    return policy\n"
    )
    environment = dict(os.environ, MYPYPATH=str(BINDING_DIR))
    mypy = [sys.executable, "-m", "mypy", "--strict", "--cache-dir=/dev/null", "--no-error-summary"]
    if subprocess.run(mypy[:3] + ["--version"], capture_output=True).returncode != 0:
        pytest.skip("mypy is not installed (python3 -m pip install mypy)")
    checked = subprocess.run(mypy + [str(good)], capture_output=True, text=True, env=environment,
                             cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    checked = subprocess.run(mypy + [str(bad)], capture_output=True, text=True, env=environment,
                             cwd=tmp_path)
    assert checked.returncode == 1 and '"str | None"' in checked.stdout, checked.stdout

    pyright = shutil.which("pyright")
    if pyright is None:
        pytest.skip("pyright is not on PATH (python3 -m pip install 'pyright[nodejs]')")
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(
        {"typeCheckingMode": "strict", "pythonVersion": "3.9", "extraPaths": [str(BINDING_DIR)]}
    ))
    checked = subprocess.run([pyright, "good.py"], capture_output=True, text=True, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    checked = subprocess.run([pyright, "bad.py"], capture_output=True, text=True, cwd=tmp_path)
    assert checked.returncode == 1 and '"str | None"' in checked.stdout, checked.stdout


# -- building payments ----------------------------------------------------------


def test_each_always_sent_member_is_required(payment_fields: Dict[str, List[str]]) -> None:
    full, restricted = payment_fields["full"], payment_fields["restricted"]
    for field in full:
        data = payment_json("t1")
        del data[field]
        if field == "policy_id":  # then it is a restricted object, with too much
            assert type(kasko.Payment.from_dict(data)) is kasko.RestrictedPayment
        elif field in _payment._NULLABLE:
            assert kasko.Payment.from_dict(data).raw == data
        else:
            with pytest.raises(ValueError, match=f'the full object has no "{field}"'):
                kasko.Payment.from_dict(data)
            data[field] = None  # null is not a value of it either
            with pytest.raises(ValueError, match=f'"{field}" is not '):
                kasko.Payment.from_dict(data)
    for field in restricted:
        data = restricted_json("t1", restricted)
        del data[field]
        with pytest.raises(ValueError, match=f'the restricted object has no "{field}"'):
            kasko.Payment.from_dict(data)


def test_every_documented_type_of_a_member_is_accepted_and_no_other() -> None:
    # The one-pass check and the member-by-member one agree.
    class Text(str):
        pass

    for changes in ({"fee": 1.5}, {"fee": 0}, {"metadata": {"k": "v"}},
                    {"transaction_metadata": {"k": "v"}, "metadata": []}, {"status": Text("ok")},
                    {"links_unknown": 1}, {"charge_id": "ch_1", "reason": "r"}):
        assert kasko.Payment.from_dict({**payment_json("t1"), **changes}).raw["id"] == "t1", changes
    for changes, message in (({"fee": True}, '"fee" is not a number'),
                             ({"livemode": 1}, '"livemode" is not a boolean'),
                             ({"metadata": "[]"}, '"metadata" is not an array or an object'),
                             ({"refunds": {}}, '"refunds" is not an array'),
                             ({"_links": []}, '"_links" is not an object'),
                             ({"token": 1}, '"token" is not a string')):
        with pytest.raises(ValueError, match=message):
            kasko.Payment.from_dict({**payment_json("t1"), **changes})


def test_from_dict_makes_the_shape_of_the_object(payment_fields: Dict[str, List[str]]) -> None:
    full = payment_json("t1")
    restricted = restricted_json("t1", payment_fields["restricted"])
    assert type(kasko.Payment.from_dict(full)) is kasko.FullPayment
    assert type(kasko.Payment.from_dict(restricted)) is kasko.RestrictedPayment
    assert type(kasko.FullPayment.from_dict(full)) is kasko.FullPayment
    assert type(kasko.RestrictedPayment.from_dict(restricted)) is kasko.RestrictedPayment
    with pytest.raises(ValueError, match="the restricted object, not the full one"):
        kasko.FullPayment.from_dict(restricted)
    with pytest.raises(ValueError, match="the full object, not the restricted one"):
        kasko.RestrictedPayment.from_dict(full)


def test_built_by_hand_the_types_are_checked_too() -> None:
    values = kasko.Payment.from_dict(payment_json("t1"))
    args = {attribute_of(f): getattr(values, attribute_of(f)) for f in payment_json("t1")}
    assert kasko.FullPayment(**args, raw={}).customer_id == "cus_example"
    assert kasko.Payment(**args, raw={}).id == "t1"
    with pytest.raises(ValueError, match="FullPayment: token must be a str, not None"):
        kasko.FullPayment(**{**args, "token": None}, raw={})
    with pytest.raises(ValueError, match="Payment: status must be a str, not None"):
        kasko.Payment(**{**args, "status": None}, raw={})
    with pytest.raises(ValueError, match="RestrictedPayment: policy_id must be None"):
        kasko.RestrictedPayment(**args, raw={})


def test_repr_and_str_of_a_payment_built_from_a_dict() -> None:
    p = kasko.Payment.from_dict(payment_json("t84223322f013e2287210b6295010fc6d"))
    assert repr(p) == str(p) == (
        "<kasko.FullPayment id='t84223322f013e2287210b6295010fc6d' status='ok' provider='invoice' "
        "method='invoice' livemode=False policy_id='tpol_aaaaaaaaaaaaaaaaaaaaaaaaaaaa' fee=0 "
        "token=[redacted] customer_id=[redacted]>"
    )
    assert f"{p}" == str(p) and "%s" % (p,) == str(p) and "ptok_example" not in repr([p])


# -- against the sandbox --------------------------------------------------------


def test_created_and_viewed_payments_are_of_their_shape(
    client: kasko.Client, public_client: kasko.Client, sandbox: Sandbox
) -> None:
    full = invoice(client, sandbox.offer())
    assert type(full) is kasko.FullPayment and isinstance(full, kasko.Payment)
    assert not full.restricted
    viewed = client.get_payment(full.id)
    assert type(viewed) is kasko.FullPayment and viewed == full
    restricted = invoice(public_client, sandbox.offer())
    assert type(restricted) is kasko.RestrictedPayment and isinstance(restricted, kasko.Payment)
    assert restricted.restricted and not isinstance(restricted, kasko.FullPayment)
    assert restricted.policy_id is None and restricted.token is None and restricted.customer_id is None
    assert isinstance(restricted.status, str) and isinstance(restricted.links, dict)
    assert type(client.get_payment(restricted.id)) is kasko.FullPayment


def test_repr_and_str_leave_out_the_token_and_the_customer_id(
    client: kasko.Client, public_client: kasko.Client, sandbox: Sandbox
) -> None:
    offer = sandbox.offer()
    created = invoice(client, offer)
    viewed = client.get_payment(created.id)
    for payment, what in ((created, "created"), (viewed, "viewed")):
        # The sandbox sends both, and the token is the offer's.
        assert isinstance(payment.raw.get("token"), str) and payment.raw["token"]
        assert isinstance(payment.raw.get("customer_id"), str) and payment.raw["customer_id"]
        for text, how in ((repr(payment), "repr"), (str(payment), "str"), (f"{payment}", "format"),
                          (repr([payment]), "repr of a list"),
                          (json.dumps(payment.to_dict(redact=True)), "to_dict(redact=True)")):
            assert_secrets_hidden(text, payment, f"{how} of the {what} payment")
            hidden = offer["token"] in text
            assert not hidden, f"{how} of the {what} payment shows the offer's token"
        text = str(payment)
        assert text.startswith("<kasko.FullPayment ") and f"id={payment.id!r}" in text
        assert "status='ok'" in text and "provider='invoice'" in text and "method='invoice'" in text
        assert f"policy_id={offer['policy_id']!r}" in text
        assert "token=[redacted]" in text and "customer_id=[redacted]" in text
        assert f"request_id={payment.request_id!r}" in text
    restricted = invoice(public_client, sandbox.offer())
    text = str(restricted)
    assert text.startswith("<kasko.RestrictedPayment ") and f"id={restricted.id!r}" in text
    assert "token" not in text and "customer_id" not in text and "policy_id" not in text


def test_to_dict_round_trips_through_json(
    client: kasko.Client, public_client: kasko.Client, sandbox: Sandbox
) -> None:
    for payment in (invoice(client, sandbox.offer()), invoice(public_client, sandbox.offer())):
        text = json.dumps(payment.to_dict())
        assert json.loads(text) == payment.raw
        again = kasko.Payment.from_dict(json.loads(text))
        assert type(again) is type(payment) and again == payment and again.raw == payment.raw
        assert again.request_id is None  # what the call said is not a payment member
        copied = payment.to_dict()
        assert copied is not payment.raw
        copied["_links"]["_self"]["href"] = "changed"
        assert payment.raw["_links"]["_self"]["href"] != "changed"  # a deep copy
        redacted = payment.to_dict(redact=True)
        for key in ("token", "customer_id"):
            assert redacted.get(key) in (None, "[redacted]"), key
        assert {k: v for k, v in redacted.items() if k not in ("token", "customer_id")} == {
            k: v for k, v in payment.raw.items() if k not in ("token", "customer_id")
        }
    with pytest.raises(TypeError):
        json.dumps(payment)  # not a dict: to_dict() is the way, as documented
    # Inside a larger document, as the README has it.
    nested = json.loads(json.dumps({"payment": payment}, default=kasko.Payment.to_dict))
    assert nested == {"payment": payment.raw}


def full_body(payment_id: str, policy_id: str) -> Dict[str, Any]:
    body = payment_json(payment_id)
    body["policy_id"] = policy_id
    return body


def test_a_view_without_a_member_it_always_has_is_an_invalid_response(
    client: kasko.Client, sandbox: Sandbox, faults: Faults
) -> None:
    created = invoice(client, sandbox.offer())
    body = full_body(created.id, "tpol_" + "b" * 28)
    del body["status"]
    faults.arm(created.id, {"status": 200, "body": json.dumps(body)})
    with pytest.raises(kasko.InvalidResponseError) as info:
        client.get_payment(created.id)
    error = info.value
    assert error.code == "KASKO_ERR_INVALID_RESPONSE" and error.http_status == 200
    assert error.outcome == "unknown" and error.retryable is False and error.attempts == 1
    assert error.request_id and error.message == (
        'response is not a payment object: the full object has no "status"'
    )
    assert error.raw["code"] == "KASKO_ERR_INVALID_RESPONSE" and error.raw["http_status"] == 200
    assert error.raw["outcome"] == "unknown" and error.raw["request_id"] == error.request_id
    # A view answered with the restricted object: not what a view returns.
    faults.arm(created.id, {"status": 200, "body": json.dumps(
        {k: v for k, v in body.items() if k in _payment._EVERY} | {"status": "ok"})})
    with pytest.raises(kasko.InvalidResponseError, match="the restricted object"):
        client.get_payment(created.id)
    assert client.get_payment(created.id) == created  # faults used up


def test_a_create_answered_with_an_ill_typed_member_is_an_invalid_response(
    client: kasko.Client, sandbox: Sandbox, faults: Faults
) -> None:
    offer = sandbox.offer()
    body = full_body("t" + "d" * 32, offer["policy_id"])
    body["livemode"] = "false"
    faults.arm(offer["policy_id"], {"status": 200, "body": json.dumps(body)})
    with pytest.raises(kasko.InvalidResponseError) as info:
        invoice(client, offer)
    error = info.value
    assert error.message == 'response is not a payment object: "livemode" is not a boolean'
    # The payment may exist, as for any answer that is not the payment.
    assert error.outcome == "unknown" and error.http_status == 200
