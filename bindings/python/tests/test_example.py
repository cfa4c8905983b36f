"""The runnable example, as `make demo` runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Dict, List, Optional

from conftest import BINDING_DIR, Sandbox

EXAMPLE = BINDING_DIR / "examples" / "create_and_view.py"


def run_example(args: List[str], env_overrides: Dict[str, Optional[str]]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    for key in ("KASKO_BASE_URL", "KASKO_PUBLIC_KEY", "KASKO_SECRET_KEY"):
        env.pop(key, None)
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env["PYTHONPATH"] = str(BINDING_DIR)
    return subprocess.run([sys.executable, str(EXAMPLE), *args], env=env,
                          capture_output=True, text=True, timeout=120)


def json_after(label: str, output: str) -> Dict[str, object]:
    start = output.index(label) + len(label)
    value, _ = json.JSONDecoder().raw_decode(output[start:].lstrip())
    assert isinstance(value, dict)
    return value


def test_example_with_a_sandbox_offer(sandbox_url: str, public_key: str, secret_key: str) -> None:
    # As `make demo` runs it: KASKO_BASE_URL and the keys set, no arguments.
    result = run_example([], {"KASKO_BASE_URL": sandbox_url, "KASKO_PUBLIC_KEY": public_key,
                              "KASKO_SECRET_KEY": secret_key})
    assert result.returncode == 0, result.stderr
    created = json_after("created:", result.stdout)
    viewed = json_after("viewed:", result.stdout)
    assert created["id"] == viewed["id"] and viewed["status"] == "ok"


def test_example_with_a_given_offer(sandbox: Sandbox, public_key: str, secret_key: str) -> None:
    # Only the with-sandbox variables: KASKO_SANDBOX_URL and its keys.
    offer = sandbox.offer()
    result = run_example([offer["policy_id"], offer["token"]],
                         {"KASKO_SANDBOX_PUBLIC_KEY": public_key, "KASKO_SANDBOX_SECRET_KEY": secret_key})
    assert result.returncode == 0, result.stderr
    assert json_after("viewed:", result.stdout)["policy_id"] == offer["policy_id"]


def test_example_reports_errors(sandbox_url: str, public_key: str) -> None:
    result = run_example(["--sandbox-offer"], {"KASKO_BASE_URL": sandbox_url, "KASKO_PUBLIC_KEY": public_key,
                                               "KASKO_SECRET_KEY": "sk_test_" + "z" * 32})
    assert result.returncode == 1
    assert "KASKO_ERR_UNAUTHORIZED" in result.stderr
