"""Who each service is (``services``): said once, and importable for free."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from airflow_provider_wa_phones.services import CAMS, NXCLOUD


def test_each_service_has_its_connection_type_argument_and_default():
    assert dataclasses.astuple(NXCLOUD) == ("NxCloud", "nxcloud", "nxcloud_conn_id", "nxcloud_default")
    assert dataclasses.astuple(CAMS) == (
        "Alibaba Cloud CAMS",
        "alibaba_cams",
        "cams_conn_id",
        "alibaba_cams_default",
    )


def test_a_service_is_a_value_that_cannot_be_changed():
    with pytest.raises(dataclasses.FrozenInstanceError):
        NXCLOUD.name = "other"  # type: ignore[misc]


def test_the_module_imports_nothing_of_the_package():
    code = (
        "import sys; import airflow_provider_wa_phones.services; "
        "print(sorted(m for m in sys.modules if m.startswith('airflow_provider_wa_phones.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["['airflow_provider_wa_phones.services']"]
