"""kasko_client_new refuses, quickly and without hanging, a ca_bundle that is
not a readable regular file and base_url/proxy ports that are not 1..5 ASCII
digits in 1..65535. Every call runs in a thread with a join timeout."""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap

import pytest

import hostile_server as hs
import kasko_support as ks

QUICK = 2.0  # seconds: "returns quickly"


def client_new(lib, config):
    (status, client, error), elapsed = ks.run_bounded(lib.client_new, config, timeout=10)
    if client:
        lib.client_free(client)
    return status, client, error, elapsed


def expect_refused(lib, config, must_not_contain=()):
    status, client, error, elapsed = client_new(lib, config)
    ks.assert_error(lib, status, error, code="KASKO_ERR_INVALID_ARGUMENT", http_status=None)
    assert client is None
    assert elapsed < QUICK, "kasko_client_new took %.1f s" % elapsed
    for text in must_not_contain:
        assert text.encode() not in error
    return error


def expect_accepted(lib, config):
    status, client, error, elapsed = client_new(lib, config)
    assert ks.NAME.get(status) == "KASKO_OK", error
    assert client is not None
    assert elapsed < QUICK


def loopback_config(keys, **extra):
    return ks.client_config(keys, "http://127.0.0.1:%d" % hs.free_port(), **extra)


# -- ca_bundle -------------------------------------------------------------------------

def make_fifo(tmp_path):
    path = tmp_path / "bundle.fifo"
    os.mkfifo(path)
    return str(path)


def make_directory(tmp_path):
    path = tmp_path / "bundle.d"
    path.mkdir()
    return str(path)


def make_symlink_to_fifo(tmp_path):
    target = make_fifo(tmp_path)
    link = tmp_path / "bundle.pem"
    link.symlink_to(target)
    return str(link)


def make_missing(tmp_path):
    return str(tmp_path / "does-not-exist.pem")


CA_BUNDLES = {
    "fifo": make_fifo,
    "directory": make_directory,
    "dev_zero": lambda tmp_path: "/dev/zero",
    "dev_null": lambda tmp_path: "/dev/null",
    "symlink_to_fifo": make_symlink_to_fifo,
    "missing_file": make_missing,
    "empty_path": lambda tmp_path: "",
}


@pytest.mark.parametrize("kind", sorted(CA_BUNDLES))
def test_ca_bundle_that_is_not_a_readable_regular_file_is_refused(lib, keys, tmp_path, kind):
    path = CA_BUNDLES[kind](tmp_path)
    expect_refused(lib, loopback_config(keys, ca_bundle=path))


def test_unreadable_ca_bundle_is_refused(lib, keys, tmp_path):
    path = tmp_path / "unreadable.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    path.chmod(0)
    try:
        try:
            with open(path, "rb"):
                readable = True
        except PermissionError:
            readable = False
        if readable:
            pytest.skip("running with privileges that read a mode-000 file (root): cannot make an unreadable file")
        expect_refused(lib, loopback_config(keys, ca_bundle=str(path)))
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


UNPRIVILEGED_CHECK = textwrap.dedent("""
    import ctypes, json, os, sys
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
    library, config = sys.argv[1], sys.argv[2]
    assert not os.access(json.loads(config)["ca_bundle"], os.R_OK)
    try:
        lib = ctypes.CDLL(library)
    except OSError as error:
        print(error)
        sys.exit(3)
    lib.kasko_client_new.restype = ctypes.c_int
    lib.kasko_client_new.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p)]
    lib.kasko_string_free.argtypes = [ctypes.c_void_p]
    client, error = ctypes.c_void_p(), ctypes.c_void_p()
    status = lib.kasko_client_new(config.encode(), ctypes.byref(client), ctypes.byref(error))
    text = ctypes.string_at(error.value).decode() if error.value else ""
    print(json.dumps({"status": status, "client": bool(client.value), "error": text}))
""")


def test_unreadable_ca_bundle_is_refused_for_an_unprivileged_process(lib, keys):
    """As root a mode-000 file is readable, so drop to nobody in a child
    process (the library is loaded there afresh) and check it is refused."""
    if os.geteuid() != 0:
        pytest.skip("only needed when running as root (see test_unreadable_ca_bundle_is_refused)")
    directory = tempfile.mkdtemp(prefix="kasko-hostile-")
    try:
        os.chmod(directory, 0o755)
        path = os.path.join(directory, "unreadable.pem")
        with open(path, "w") as bundle:
            bundle.write("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
        os.chmod(path, 0)
        library = os.path.realpath(lib.path)
        if not os.access(library, os.R_OK) or (os.stat(library).st_mode & stat.S_IROTH) == 0:
            pytest.skip("the library under test is not readable by an unprivileged user")
        config = json.dumps(loopback_config(keys, ca_bundle=path))
        child = subprocess.run([sys.executable, "-c", UNPRIVILEGED_CHECK, library, config],
                               capture_output=True, text=True, timeout=20)
        if child.returncode == 3:
            pytest.skip("an unprivileged process cannot load the library: %s" % child.stdout.strip())
        assert child.returncode == 0, child.stderr
        result = json.loads(child.stdout)
        assert ks.NAME.get(result["status"]) == "KASKO_ERR_INVALID_ARGUMENT", result
        assert not result["client"]
        ks.parse_error(result["error"].encode())
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_regular_readable_ca_bundle_is_accepted(lib, keys, tmp_path):
    """The control for the refusals above: a real PEM bundle is accepted."""
    for candidate in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"):
        if os.path.isfile(candidate):
            expect_accepted(lib, loopback_config(keys, ca_bundle=candidate))
            return
    pytest.skip("no system CA bundle to use as a control")


# -- ports -------------------------------------------------------------------------------

BAD_PORTS = {
    "plus_sign": "+8080",
    "minus_sign": "-8080",
    "trailing_letter": "08080x",
    "zero": "0",
    "all_zeros": "00000",
    "65536": "65536",
    "huge": "99999999999999999999",
    "six_digits_leading_zero": "008080",
    "full_width_digits": "\uff11\uff12\uff13",
    "arabic_indic_digits": "\u0661\u0662\u0663",
    "hex": "0x1f90",
    "exponent": "8e3",
    "empty": "",
    "underscore": "8_080",
    "decimal_point": "8080.0",
}

GOOD_PORTS = {"1": "1", "8080": "8080", "65535": "65535", "five_digits_leading_zero": "08080"}


@pytest.mark.parametrize("kind", sorted(BAD_PORTS))
def test_base_url_with_bad_port_is_refused(lib, keys, kind):
    port = BAD_PORTS[kind]
    expect_refused(lib, ks.client_config(keys, "http://127.0.0.1:%s" % port))


@pytest.mark.parametrize("kind", sorted(BAD_PORTS))
def test_https_base_url_with_bad_port_is_refused(lib, keys, kind):
    port = BAD_PORTS[kind]
    expect_refused(lib, ks.client_config(keys, "https://api.example.com:%s/v2" % port))


@pytest.mark.parametrize("kind", sorted(BAD_PORTS))
def test_proxy_with_bad_port_is_refused(lib, keys, kind):
    port = BAD_PORTS[kind]
    expect_refused(lib, loopback_config(keys, proxy="http://127.0.0.1:%s" % port))


@pytest.mark.parametrize("kind", sorted(BAD_PORTS))
def test_proxy_with_bad_port_and_https_base_url_is_refused(lib, keys, kind):
    port = BAD_PORTS[kind]
    expect_refused(lib, ks.client_config(keys, "https://api.example.com", proxy="http://10.1.2.3:%s" % port))


@pytest.mark.parametrize("kind", sorted(GOOD_PORTS))
def test_base_url_and_proxy_with_good_port_are_accepted(lib, keys, kind):
    port = GOOD_PORTS[kind]
    expect_accepted(lib, ks.client_config(keys, "http://127.0.0.1:%s" % port,
                                          proxy="http://127.0.0.1:%s" % port))
