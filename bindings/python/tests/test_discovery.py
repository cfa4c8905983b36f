"""Library discovery order and the ImportError message, each in a subprocess
with a controlled environment (KASKO_LIBRARY, LD_LIBRARY_PATH)."""

from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest

from conftest import BINDING_DIR, header_define

import kasko
from kasko import _lib


def run_import(
    snippet: str = "",
    *,
    kasko_library: Optional[str] = None,
    ld_library_path: Optional[str] = None,
    find_library: Optional[str] = None,
    package_parent: Optional[Path] = None,
) -> Tuple[int, str]:
    """Imports kasko in a fresh interpreter; returns (exit code, output).

    ``find_library``: Python source of a replacement for
    ``ctypes.util.find_library`` (installed before the import), or None for
    the real one. ``package_parent``: the directory holding the ``kasko``
    package to import (default: bindings/python, which bundles no library).
    """
    env: Dict[str, str] = {
        k: v for k, v in os.environ.items() if k not in ("KASKO_LIBRARY", "LD_LIBRARY_PATH")
    }
    env["PYTHONPATH"] = str(package_parent or BINDING_DIR)
    if kasko_library is not None:
        env["KASKO_LIBRARY"] = kasko_library
    if ld_library_path is not None:
        env["LD_LIBRARY_PATH"] = ld_library_path
    program = "import ctypes.util, sys\n"
    if find_library is not None:
        program += find_library + "\nctypes.util.find_library = find_library\n"
    program += textwrap.dedent(
        """
        try:
            import kasko
        except ImportError as exc:
            print("IMPORT-ERROR:", exc)
            sys.exit(3)
        print("PATH:", kasko.library_path())
        print("VERSION:", kasko.library_version())
        """
    ) + snippet
    result = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60
    )
    return result.returncode, result.stdout + result.stderr


def soname_installed() -> bool:
    """True if the loader finds libkasko.so.1 without any help (installed)."""
    code, _ = run_import_plain("import ctypes; ctypes.CDLL('libkasko.so.1')")
    return code == 0


def run_import_plain(program: str) -> Tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KASKO_LIBRARY", "LD_LIBRARY_PATH")}
    result = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture
def lib_copy_dir(tmp_path: Path, library_file: Path) -> Path:
    """A directory holding a copy of the library under its SONAME only."""
    shutil.copy(library_file, tmp_path / "libkasko.so.1")
    return tmp_path


MAPS_SNIPPET = """
with open("/proc/self/maps") as maps:
    print("MAPPED:", sorted({l.split()[-1] for l in maps if "libkasko" in l}))
"""

NO_FIND_LIBRARY = """
def find_library(name):
    raise SystemExit("find_library must not be called")
"""


def test_env_var_comes_first(lib_copy_dir: Path, library_file: Path) -> None:
    # Both KASKO_LIBRARY and LD_LIBRARY_PATH could load it: KASKO_LIBRARY wins.
    copy = str(lib_copy_dir / "libkasko.so.1")
    code, out = run_import(
        MAPS_SNIPPET,
        kasko_library=copy,
        ld_library_path=str(library_file.parent),
        find_library=NO_FIND_LIBRARY,
    )
    assert code == 0, out
    assert f"PATH: {copy}" in out
    assert f"MAPPED: [{copy!r}]" in out
    assert "VERSION: 1." in out


def test_env_var_that_cannot_be_loaded_fails_loudly(library_file: Path) -> None:
    # The loader could find a good library, but KASKO_LIBRARY names a bad one:
    # that is an error, not a silent fall-through.
    bad = "/nonexistent/libkasko.so.1"
    code, out = run_import(kasko_library=bad, ld_library_path=str(library_file.parent))
    assert code == 3, out
    assert "IMPORT-ERROR:" in out
    assert "KASKO_LIBRARY" in out and bad in out
    assert "no other place is tried" in out


def test_env_var_naming_another_library_fails(library_file: Path) -> None:
    libc = ctypes.util.find_library("c") or "libc.so.6"
    code, out = run_import(kasko_library=libc)
    assert code == 3, out
    assert "is not libkasko" in out and "kasko_" in out


def test_empty_env_var_counts_as_unset(lib_copy_dir: Path) -> None:
    code, out = run_import(kasko_library="", ld_library_path=str(lib_copy_dir))
    assert code == 0, out
    assert "PATH: libkasko.so.1" in out


def test_soname_through_the_loader(lib_copy_dir: Path) -> None:
    code, out = run_import(
        MAPS_SNIPPET, ld_library_path=str(lib_copy_dir), find_library=NO_FIND_LIBRARY
    )
    assert code == 0, out
    assert "PATH: libkasko.so.1" in out
    assert f"MAPPED: [{str(lib_copy_dir / 'libkasko.so.1')!r}]" in out


@pytest.fixture
def bundling_package(tmp_path: Path, library_file: Path) -> Path:
    """A copy of the package with the library inside it, as a wheel from
    scripts/build-wheel has it (kasko/libkasko.so.1); returns its parent."""
    parent = tmp_path / "site"
    shutil.copytree(BINDING_DIR / "kasko", parent / "kasko",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(library_file, parent / "kasko" / "libkasko.so.1")
    return parent


def test_bundled_library_comes_before_the_loader(bundling_package: Path, lib_copy_dir: Path) -> None:
    # LD_LIBRARY_PATH offers another copy: the one inside the package wins.
    bundled = str(bundling_package / "kasko" / "libkasko.so.1")
    code, out = run_import(
        MAPS_SNIPPET,
        ld_library_path=str(lib_copy_dir),
        find_library=NO_FIND_LIBRARY,
        package_parent=bundling_package,
    )
    assert code == 0, out
    assert f"PATH: {bundled}" in out
    assert f"MAPPED: [{bundled!r}]" in out


def test_env_var_comes_before_the_bundled_library(bundling_package: Path, lib_copy_dir: Path) -> None:
    copy = str(lib_copy_dir / "libkasko.so.1")
    code, out = run_import(
        MAPS_SNIPPET, kasko_library=copy, find_library=NO_FIND_LIBRARY, package_parent=bundling_package
    )
    assert code == 0, out
    assert f"PATH: {copy}" in out
    assert f"MAPPED: [{copy!r}]" in out


def test_bundled_library_that_cannot_be_loaded_fails_loudly(
    bundling_package: Path, lib_copy_dir: Path
) -> None:
    # A broken wheel is reported, not papered over with a system copy.
    bundled = bundling_package / "kasko" / "libkasko.so.1"
    bundled.write_bytes(b"not an ELF file")
    code, out = run_import(
        ld_library_path=str(lib_copy_dir), find_library=NO_FIND_LIBRARY, package_parent=bundling_package
    )
    assert code == 3, out
    assert f"bundled in the package, {bundled}" in out
    assert "KASKO_LIBRARY=" in out


def test_find_library_is_the_last_resort(library_file: Path) -> None:
    if soname_installed():
        pytest.skip("libkasko.so.1 is installed system-wide: the loader step always wins")
    recorder = f"""
calls = []
def find_library(name):
    calls.append(name)
    return {str(library_file)!r}
"""
    code, out = run_import('print("CALLS:", calls)', find_library=recorder)
    assert code == 0, out
    assert f"PATH: {library_file}" in out
    assert "CALLS: ['kasko']" in out


def test_import_error_says_what_was_tried_and_how_to_fix() -> None:
    if soname_installed():
        pytest.skip("libkasko.so.1 is installed system-wide")
    nothing = "def find_library(name):\n    return None\n"
    for replacement in (nothing, None):  # a stub, then the real find_library
        code, out = run_import(find_library=replacement)
        if replacement is None and code == 0:
            pytest.skip("ctypes.util.find_library finds an installed libkasko")
        assert code == 3, out
        message = out.split("IMPORT-ERROR:", 1)[1]
        assert "KASKO_LIBRARY: not set" in message
        assert "bundled " in message and "not there" in message
        assert "libkasko.so.1 through the dynamic loader" in message
        assert 'find_library("kasko")' in message
        # how to fix it
        assert "LD_LIBRARY_PATH=" in message and "KASKO_LIBRARY=" in message


def test_find_library_result_that_cannot_be_loaded_is_reported() -> None:
    if soname_installed():
        pytest.skip("libkasko.so.1 is installed system-wide")
    broken = "def find_library(name):\n    return '/nowhere/libkasko.so.7'\n"
    code, out = run_import(find_library=broken)
    assert code == 3, out
    assert "/nowhere/libkasko.so.7" in out


def test_version_is_checked() -> None:
    _lib.check_version("1.1.0", "x")
    _lib.check_version("1.42.7", "x")
    for bad in ("2.0.0", "0.9.1", "", "garbage"):
        with pytest.raises(ImportError, match="needs major version 1"):
            _lib.check_version(bad, "/some/libkasko.so.1")
    # The binding uses the C API 1.1: a 1.0 library is too old.
    for old in ("1.0.0", "1.0.9", "1", "1.x.0"):
        with pytest.raises(ImportError, match=r"needs 1\.1 or later"):
            _lib.check_version(old, "/some/libkasko.so.1")


def fake_library(tmp_path: Path, version: str) -> Path:
    """A library of the 1.0 functions only, saying it is `version`."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build a fake library")
    source = tmp_path / "fake.c"
    source.write_text(
        f'const char *kasko_version(void) {{ return "{version}"; }}\n'
        'const char *kasko_status_name(int s) { (void)s; return "X"; }\n'
        "int kasko_client_new(void) { return 10; }\n"
        "void kasko_client_free(void) {}\n"
        "int kasko_payment_create(void) { return 10; }\n"
        "int kasko_payment_get(void) { return 10; }\n"
        "void kasko_string_free(void) {}\n"
    )
    fake = tmp_path / f"libkasko.so.{version}"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(fake), str(source)], check=True)
    return fake


def test_library_with_another_major_version_is_refused(tmp_path: Path) -> None:
    code, out = run_import(kasko_library=str(fake_library(tmp_path, "2.0.0")))
    assert code == 3, out
    assert "'2.0.0'" in out and "major version 1" in out


def test_a_1_0_library_is_refused_as_too_old(tmp_path: Path) -> None:
    # Said before any 1.1 function is looked up: not "is not libkasko".
    code, out = run_import(kasko_library=str(fake_library(tmp_path, "1.0.0")))
    assert code == 3, out
    assert "'1.0.0'" in out and "needs 1.1 or later" in out
    assert "is not libkasko" not in out


def test_this_process_loaded_a_v1_library() -> None:
    major, minor = kasko.library_version().split(".")[:2]
    assert major == str(kasko.EXPECTED_MAJOR) and int(minor) >= _lib.MINIMUM_MINOR


def test_version_number(header_file: Path) -> None:
    major, minor, patch = (int(part) for part in kasko.library_version().split(".")[:3])
    number = kasko.version_number()
    assert number == major * 1000000 + minor * 1000 + patch
    assert str(number) == header_define(header_file, "KASKO_VERSION_NUMBER")
