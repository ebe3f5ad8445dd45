from __future__ import annotations

import ast
import importlib
from pathlib import Path

import airflow_provider_wa_phones
from airflow_provider_wa_phones.get_provider_info import get_provider_info

TRIGGERS_DIR = Path(airflow_provider_wa_phones.__file__).parent / "triggers"


def triggers_in_tree() -> dict[str, set[str]]:
    """Every ``...Trigger`` class defined in triggers/*.py (modules of shared bases define none),
    by module name: a new trigger is expected in the provider info without editing this test."""
    found: dict[str, set[str]] = {}
    for path in sorted(TRIGGERS_DIR.glob("*.py")):
        if path.stem in {"__init__", "base"}:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
        triggers = {name for name in names if name.endswith("Trigger")}
        if triggers:  # base.py, polling.py, watch.py hold only the shared bases
            found[f"airflow_provider_wa_phones.triggers.{path.stem}"] = triggers
    return found


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


#: Every public component, by the kind get_provider_info lists it under (DESIGN.md's public API).
COMPONENTS = {
    "hooks": {"NxCloudHook", "CamsHook"},
    "operators": {
        "NxCloudPhoneInfoOperator",
        "NxCloudPhoneListOperator",
        "NxCloudNumberCheckOperator",
        "NxCloudNumberCheckResultsOperator",
        "CamsPhoneNumbersOperator",
        "CamsPhoneBusinessProfileOperator",
    },
    "sensors": {"NxCloudNumberCheckSensor", "NxCloudPhoneStatusSensor", "CamsPhoneStatusSensor"},
    "triggers": set().union(*triggers_in_tree().values()),
}


def test_the_tree_scan_finds_the_known_triggers():
    assert {"NxCloudNumberCheckTrigger", "NxCloudPhoneStatusTrigger", "CamsPhoneStatusTrigger"} <= (
        COMPONENTS["triggers"]
    )


def test_listed_modules_exist_and_hold_every_component_of_their_kind():
    info = get_provider_info()
    for kind, names in COMPONENTS.items():
        modules = [
            importlib.import_module(module) for entry in info[kind] for module in entry["python-modules"]
        ]
        found = {name for module in modules for name in names if name in vars(module)}
        assert found == names, f"{kind}: {names - found} in no listed module"


def test_every_component_names_a_listed_integration():
    info = get_provider_info()
    integrations = {entry["integration-name"] for entry in info["integrations"]}
    for kind in COMPONENTS:
        assert {entry["integration-name"] for entry in info[kind]} == integrations


def test_provider_info_is_valid_for_airflow_and_its_provider_yaml_rules():
    """Airflow validates the entry point's answer against provider_info.schema.json; the integration
    entries also follow provider.yaml's stricter rules (tags from its list, a how-to guide)."""
    import json
    from importlib.resources import files

    import jsonschema

    info = get_provider_info()
    schema = json.loads(files("airflow").joinpath("provider_info.schema.json").read_text())
    jsonschema.validate(info, schema)
    yaml_schema = json.loads(files("airflow").joinpath("provider.yaml.schema.json").read_text())
    integration_schema = yaml_schema["properties"]["integrations"]
    jsonschema.validate(info["integrations"], integration_schema)
    for integration in info["integrations"]:
        assert integration["how-to-guide"], integration["integration-name"]


def test_providers_manager_lists_the_triggers_and_their_integrations():
    from airflow.providers_manager import ProvidersManager

    listed = {
        trigger.trigger_class_name: trigger.integration_name
        for trigger in ProvidersManager().trigger
        if trigger.package_name == "airflow-provider-wa-phones"
    }
    assert set(listed) == set(triggers_in_tree())
    assert set(listed.values()) == {"NxCloud WhatsApp", "Alibaba Cloud ChatApp Message Service (CAMS)"}
    assert listed["airflow_provider_wa_phones.triggers.nxcloud"] == "NxCloud WhatsApp"


def test_how_to_links_name_pages_of_the_docs():
    """Each how-to link is a page of the docs site, as /docs/<page> (Airflow's providers' form)."""
    repo = Path(airflow_provider_wa_phones.__file__).parent.parent
    links = [link for i in get_provider_info()["integrations"] for link in i["how-to-guide"]]
    assert len(links) >= 6
    for link in links:
        assert link.startswith("/docs/") and link.endswith(".md"), link
        assert (repo / link.lstrip("/")).is_file(), f"{link}: no such docs page"
