from __future__ import annotations

import importlib

from airflow_provider_wa_phones.get_provider_info import get_provider_info


def test_providers_manager_lists_the_provider_and_both_connection_types():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-wa-phones" in manager.providers
    assert manager.hooks["nxcloud"].hook_class_name == "airflow_provider_wa_phones.hooks.nxcloud.NxCloudHook"
    widgets = manager.connection_form_widgets
    for field in ("extra__nxcloud__appkey", "extra__nxcloud__sign_algorithm"):
        assert widgets[field].package_name == "airflow-provider-wa-phones"
    for field in ("extra__alibaba_cams__region", "extra__alibaba_cams__cust_space_id"):
        assert field in widgets
    assert widgets["extra__alibaba_cams__security_token"].is_sensitive
    behaviour = manager.field_behaviours["nxcloud"]
    assert behaviour["relabeling"] == {
        "host": "API base URL",
        "login": "Access key",
        "password": "Access secret",
    }


def test_listed_modules_exist():
    info = get_provider_info()
    for kind in ("hooks", "operators"):
        for entry in info[kind]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
