"""Provider metadata Airflow reads through the ``apache_airflow_provider`` entry point.

It is plain data: the Airflow UI builds both connection forms from it without importing a hook.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_wa_phones.services import AUTH_TYPES, CAMS, NXCLOUD

_NXCLOUD = "NxCloud WhatsApp"
_CAMS = "Alibaba Cloud ChatApp Message Service (CAMS)"
# The how-to guides are pages of the docs site (docs/ in the repository and the sdist), named as
# Airflow's own providers name theirs: a path under /docs/. There is no hosted copy yet, so no URL.
_HOW_TO_NXCLOUD = ["/docs/operators-nxcloud.md", "/docs/sensors.md", "/docs/watchers.md"]
_HOW_TO_CAMS = ["/docs/operators-cams.md", "/docs/sensors.md", "/docs/cams-credentials.md"]


def _modules(kind: str) -> list[dict[str, Any]]:
    """Airflow's convention: the modules holding one kind of component, per integration."""
    return [
        {"integration-name": _NXCLOUD, "python-modules": [f"airflow_provider_wa_phones.{kind}.nxcloud"]},
        {"integration-name": _CAMS, "python-modules": [f"airflow_provider_wa_phones.{kind}.cams"]},
    ]


def get_provider_info() -> dict[str, Any]:
    """Return the provider description, integrations, components and connection types.

    ``airflow providers hooks`` / ``triggers`` and the UI read these lists; sensors and operators
    are listed the way Airflow's own providers list them, module by module.
    """
    return {
        "package-name": "airflow-provider-wa-phones",
        "name": "WhatsApp Business phones (NxCloud, Alibaba Cloud CAMS)",
        "description": "Query and watch WhatsApp Business phone numbers and number-check results "
        "on NxCloud and Alibaba Cloud ChatApp Message Service.",
        "integrations": [
            {
                "integration-name": _NXCLOUD,
                "external-doc-url": "https://github.com/nxtele/nxcloud-doc-en/wiki",
                "how-to-guide": _HOW_TO_NXCLOUD,
                "tags": ["service"],
            },
            {
                "integration-name": _CAMS,
                "external-doc-url": "https://www.alibabacloud.com/help/en/chatapp",
                "how-to-guide": _HOW_TO_CAMS,
                "tags": ["alibaba"],
            },
        ],
        "operators": _modules("operators"),
        "sensors": _modules("sensors"),
        "hooks": _modules("hooks"),
        "triggers": _modules("triggers"),
        "connection-types": [
            {
                "connection-type": NXCLOUD.conn_type,
                "hook-class-name": "airflow_provider_wa_phones.hooks.nxcloud.NxCloudHook",
                "hook-name": NXCLOUD.name,
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "host": "API base URL",
                        "login": "Access key",
                        "password": "Access secret",
                    },
                    "placeholders": {
                        "host": "https://api2.nxcloud.com",
                        "login": "accessKey from the NxCloud console",
                        "password": "accessSecret from the NxCloud console",
                    },
                },
                "conn-fields": {
                    "appkey": {
                        "label": "Appkey",
                        "description": "Default application key; operators can override it per call.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "sign_algorithm": {
                        "label": "Signature algorithm",
                        "description": "Hash used to sign requests (md5 unless NxCloud asked for sha256).",
                        "schema": {"type": "string", "enum": ["md5", "sha256"], "default": "md5"},
                    },
                    "max_answer_bytes": {
                        "label": "Largest answer (bytes)",
                        "description": "Largest answer body read, once decoded: 65536 to 1073741824 "
                        "(empty: 16 MiB). A hook's max_answer_bytes argument wins.",
                        "schema": {"type": ["integer", "null"], "minimum": 65536, "maximum": 1073741824},
                    },
                },
            },
            {
                "connection-type": CAMS.conn_type,
                "hook-class-name": "airflow_provider_wa_phones.hooks.cams.CamsHook",
                "hook-name": CAMS.name,
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "host": "Endpoint override",
                        "login": "AccessKey ID",
                        "password": "AccessKey secret",
                    },
                    "placeholders": {
                        "host": "leave empty for https://cams.<region>.aliyuncs.com",
                        "login": "LTAI...",
                        "password": "AccessKey secret from the RAM console",
                    },
                },
                "conn-fields": {
                    "region": {
                        "label": "Region",
                        "description": "Region of the CAMS endpoint.",
                        "schema": {"type": "string", "default": "ap-southeast-1"},
                    },
                    "security_token": {
                        "label": "STS security token",
                        "description": "access_key (and the source keys of ram_role_arn): only for "
                        "temporary (STS) keys.",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    "auth_type": {
                        "label": "Credentials",
                        "description": "Where the keys come from. access_key: AccessKey ID and secret "
                        "above (and an STS token); ram_role_arn: assume a RAM role; oidc_role_arn: RRSA "
                        "(ACK pods); ecs_ram_role: the ECS instance's role; credentials_uri: a URL serving "
                        "keys; default: Alibaba Cloud's default credential chain. The fields below say "
                        "which mode uses them; the others are ignored.",
                        "schema": {"type": "string", "enum": list(AUTH_TYPES), "default": "access_key"},
                    },
                    "role_arn": {
                        "label": "Role ARN",
                        "description": "ram_role_arn, oidc_role_arn: acs:ram::<account id>:role/<name> "
                        "(oidc_role_arn: empty for ALIBABA_CLOUD_ROLE_ARN).",
                        "schema": {"type": ["string", "null"]},
                    },
                    "role_session_name": {
                        "label": "Role session name",
                        "description": "ram_role_arn, oidc_role_arn: 2 to 64 letters, digits or . @ _ - "
                        "(empty: the library's default).",
                        "schema": {"type": ["string", "null"]},
                    },
                    "external_id": {
                        "label": "External ID",
                        "description": "ram_role_arn: the role's external ID, when its trust policy "
                        "asks for one.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "policy": {
                        "label": "Session policy",
                        "description": "ram_role_arn, oidc_role_arn: a JSON policy narrowing the role "
                        "(at most 1024 characters).",
                        "schema": {"type": ["string", "null"]},
                    },
                    "duration_seconds": {
                        "label": "Key lifetime (seconds)",
                        "description": "ram_role_arn, oidc_role_arn: 900 to 43200 (empty: 3600).",
                        "schema": {"type": ["integer", "null"], "minimum": 900, "maximum": 43200},
                    },
                    "oidc_provider_arn": {
                        "label": "OIDC provider ARN",
                        "description": "oidc_role_arn: acs:ram::<account id>:oidc-provider/<name> "
                        "(empty: ALIBABA_CLOUD_OIDC_PROVIDER_ARN).",
                        "schema": {"type": ["string", "null"]},
                    },
                    "oidc_token_file": {
                        "label": "OIDC token file",
                        "description": "oidc_role_arn: path of the service account token, read at each "
                        "refresh (empty: ALIBABA_CLOUD_OIDC_TOKEN_FILE).",
                        "schema": {"type": ["string", "null"]},
                    },
                    "role_name": {
                        "label": "ECS RAM role name",
                        "description": "ecs_ram_role: the instance's role (empty: asked from the "
                        "metadata service).",
                        "schema": {"type": ["string", "null"]},
                    },
                    "credentials_uri": {
                        "label": "Credentials URI",
                        "description": "credentials_uri: http(s) URL answering with Code, AccessKeyId, "
                        "AccessKeySecret, SecurityToken and Expiration.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "sts_region": {
                        "label": "STS region",
                        "description": "ram_role_arn, oidc_role_arn: call sts.<region>.aliyuncs.com "
                        "(empty: ALIBABA_CLOUD_STS_REGION, else sts.aliyuncs.com).",
                        "schema": {"type": ["string", "null"]},
                    },
                    "sts_endpoint": {
                        "label": "STS endpoint",
                        "description": "ram_role_arn, oidc_role_arn: host or host:port of STS (a VPC "
                        "endpoint); wins over the STS region. Always HTTPS.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "enable_vpc": {
                        "label": "STS over VPC",
                        "description": "ram_role_arn, oidc_role_arn: sts-vpc.<region>.aliyuncs.com "
                        "(empty: ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED).",
                        "schema": {"type": ["boolean", "null"]},
                    },
                    "cust_space_id": {
                        "label": "Default CustSpaceId",
                        "description": "Space ID of the ChatApp instance; operators can override it.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "max_answer_bytes": {
                        "label": "Largest answer (bytes)",
                        "description": "Largest answer body read, once decoded: 65536 to 1073741824 "
                        "(empty: 16 MiB). A hook's max_answer_bytes argument wins.",
                        "schema": {"type": ["integer", "null"], "minimum": 65536, "maximum": 1073741824},
                    },
                },
            },
        ],
    }
