"""Test-wide Airflow settings: a private AIRFLOW_HOME, no example DAGs, this repo's DAGs folder.

They must be in the environment before anything imports airflow, which is why they are set at
import time of this root conftest.
"""

from __future__ import annotations

import os

# --- Alibaba Cloud credentials: nothing from the outer environment, no metadata service ----------
# alibabacloud-credentials reads its environment once, when first imported (utils/auth_util.py): the
# suite's must be in place before anything imports it. No ALIBABA_CLOUD_* key of the machine running
# the tests reaches them, the ECS metadata service (100.100.100.200) is never probed, and neither
# ~/.aliyun/config.json nor ~/.alibabacloud/credentials.ini is read (an empty file instead).
for _name in [name for name in os.environ if name.startswith("ALIBABA_CLOUD_")]:
    del os.environ[_name]
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
os.environ["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"] = "true"
os.environ["ALIBABA_CLOUD_CREDENTIALS_FILE"] = os.devnull
os.environ.pop("WA_PHONES_ECS_METADATA_HOST", None)

import base64  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
_home = Path(tempfile.mkdtemp(prefix="wa-phones-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_home)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
# dag.test() runs only DAGs from files under the dags folder: link the example DAGs and the
# test-only DAGs into one private folder.
_dags = _home / "dags"
_dags.mkdir()
for _file in [*(REPO / "example_dags").glob("*.py"), *(REPO / "tests" / "dags" / "dag_files").glob("*.py")]:
    (_dags / _file.name).symlink_to(_file)
DAGS_FOLDER = _dags
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_dags)
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_home / 'airflow.db'}"
# Unit-test mode draws a new Fernet key in every process; a DAG file run as `python <file>` (the
# README snippets) shares this run's database, so it must decrypt what the test process wrote (an
# asset watcher's trigger kwargs): one key for every process of the run, as in a deployment.
os.environ["AIRFLOW__CORE__FERNET_KEY"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
# Tests never reach the real services: no connection may default to a production host.
for name in list(os.environ):
    if name.startswith("AIRFLOW_CONN_"):
        del os.environ[name]
# Nor Alibaba Cloud's: no key, role, token file, credentials URI or STS region of the outer
# environment may leak into a test, the ECS metadata service (100.100.100.200) and the CLI profile
# are out of the default chain. alibabacloud_credentials reads these when it is first imported
# (utils/auth_util.py), so they must be set here, before any test module imports it.
for name in list(os.environ):
    if name.startswith("ALIBABA_CLOUD_"):
        del os.environ[name]
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
os.environ["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"] = "true"

# --- no test reaches past this machine ---------------------------------------------------------------
# Every server a test talks to listens on 127.0.0.1. A name lookup or a connection to anything else
# (a production host left in a connection, a metadata service an SDK's default chain probes) is
# refused here before any packet leaves, and the test that tried fails, even when the code under
# test took the refusal for an ordinary network failure. Processes that tests start are not covered.

import ipaddress  # noqa: E402
import socket  # noqa: E402

import pytest  # noqa: E402

OUTSIDE_ATTEMPTS: list[str] = []
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo
_THIS_HOST = socket.gethostname().lower()


def is_loopback(host: object) -> bool:
    """Whether ``host`` (a name or an address, as given to connect or getaddrinfo) stays on this machine."""
    if host is None:
        return True  # getaddrinfo(None, port): the local wildcard, for a server's bind
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip("[]").split("%")[0].rstrip(".").lower()
    if name in ("localhost", "localhost.localdomain", _THIS_HOST) or name.endswith(".localhost"):
        return True  # this machine's own name: Airflow looks it up to label task instances
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> None:
    OUTSIDE_ATTEMPTS.append(what)
    raise ConnectionRefusedError(f"tests/conftest.py: {what} is not loopback; tests never leave this machine")


def _guarded_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if isinstance(host, str) and host.rstrip(".").lower().endswith(".invalid"):
        # RFC 2606: never resolves. Tests use it for a failed lookup; it gets one without asking DNS.
        raise socket.gaierror(socket.EAI_NONAME, f"tests/conftest.py: {host!r} is reserved as invalid")
    if not is_loopback(host):
        OUTSIDE_ATTEMPTS.append(f"name lookup of {host!r}")
        raise socket.gaierror(socket.EAI_NONAME, f"tests/conftest.py: {host!r} is not loopback")
    return _getaddrinfo(host, *args, **kwargs)


def _guarded_connect(self, address):  # type: ignore[no-untyped-def]
    if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
        _refuse(f"a connection to {address!r}")
    return _connect(self, address)


def _guarded_connect_ex(self, address):  # type: ignore[no-untyped-def]
    if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
        _refuse(f"a connection to {address!r}")
    return _connect_ex(self, address)


socket.getaddrinfo = _guarded_getaddrinfo
socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _stays_on_this_machine():  # type: ignore[no-untyped-def]
    """Fail the test that tried to reach past loopback, whatever the code under test made of it."""
    start = len(OUTSIDE_ATTEMPTS)
    yield
    tried = OUTSIDE_ATTEMPTS[start:]
    if tried:
        pytest.fail(f"the test tried to leave this machine: {tried[:5]}", pytrace=False)
