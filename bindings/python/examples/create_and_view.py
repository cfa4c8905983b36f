#!/usr/bin/env python3
"""create_and_view: create a payment for an offer, then view it.

    create_and_view.py [POLICY_ID PAYMENT_TOKEN] [--sandbox-offer]
                       [--provider NAME] [--method NAME]

Settings come from the environment:
  KASKO_BASE_URL    the API (else KASKO_SANDBOX_URL; else the library's
                    default, https://api.eu1.kaskocloud.com)
  KASKO_PUBLIC_KEY  pk_test_... / pk_live_... (else KASKO_SANDBOX_PUBLIC_KEY)
  KASKO_SECRET_KEY  sk_test_... / sk_live_... (else KASKO_SANDBOX_SECRET_KEY;
                    optional: without it the API returns the restricted
                    payment object and refuses the view)

Without POLICY_ID and PAYMENT_TOKEN (or with --sandbox-offer) the offer comes
from a kasko-sandbox: POST {KASKO_SANDBOX_URL or KASKO_BASE_URL}/__sandbox/offers.

Needs the kasko package and libkasko, e.g. from a source tree:
  KASKO_LIBRARY=build/libkasko.so.1 PYTHONPATH=bindings/python \\
      scripts/with-sandbox -- python3 bindings/python/examples/create_and_view.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from typing import Dict, List, Optional

import kasko


def sandbox_offer(url: str) -> Dict[str, str]:
    """Asks a kasko-sandbox for a new offer: {"policy_id", "token"}."""
    request = urllib.request.Request(url.rstrip("/") + "/__sandbox/offers", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        offer: Dict[str, str] = json.load(response)
    return offer


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Create a KASKO payment for an offer, then view it.")
    parser.add_argument("policy_id", nargs="?", help="the offer's policy id (tpol_...)")
    parser.add_argument("token", nargs="?", help="the offer's payment token")
    parser.add_argument("--sandbox-offer", action="store_true", help="get a new offer from the sandbox")
    parser.add_argument("--provider", default="invoice", help="payment provider (default: invoice)")
    parser.add_argument("--method", default="invoice", help="payment method (default: invoice)")
    args = parser.parse_args(argv)

    env = os.environ
    base_url = env.get("KASKO_BASE_URL") or env.get("KASKO_SANDBOX_URL")
    public_key = env.get("KASKO_PUBLIC_KEY") or env.get("KASKO_SANDBOX_PUBLIC_KEY")
    secret_key = env.get("KASKO_SECRET_KEY") or env.get("KASKO_SANDBOX_SECRET_KEY")
    if not public_key:
        print("set KASKO_PUBLIC_KEY (and KASKO_SECRET_KEY, KASKO_BASE_URL)", file=sys.stderr)
        return 2

    policy_id, token = args.policy_id, args.token
    if args.sandbox_offer or not (policy_id and token):
        sandbox_url = env.get("KASKO_SANDBOX_URL") or base_url
        if not sandbox_url:
            print("give POLICY_ID and PAYMENT_TOKEN, or set KASKO_SANDBOX_URL for a sandbox offer",
                  file=sys.stderr)
            return 2
        try:
            offer = sandbox_offer(sandbox_url)
        except OSError as exc:
            print(f"cannot get an offer from the sandbox at {sandbox_url}: {exc}", file=sys.stderr)
            return 1
        policy_id, token = offer["policy_id"], offer["token"]
        print(f"offer: policy {policy_id}")

    try:
        with kasko.Client(public_key, secret_key, base_url=base_url) as client:
            payment = client.create_payment(
                token=token, provider=args.provider, method=args.method, policy_id=policy_id
            )
            print("created:", json.dumps(payment.raw, indent=2, sort_keys=True))
            if payment.id is None:
                print("the API returned a payment without an id", file=sys.stderr)
                return 1
            viewed = client.get_payment(payment.id)
            print("viewed:", json.dumps(viewed.raw, indent=2, sort_keys=True))
    except kasko.PendingPaymentError as error:
        print(f"error: {error.code}: {error.message} (pending payment: {error.pending_payment_id})",
              file=sys.stderr)
        return 1
    except kasko.KaskoError as error:
        print(f"error: {error.code}: {error.message}", file=sys.stderr)
        if error.outcome == "unknown":
            print("the payment may exist: view it before creating it again", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
