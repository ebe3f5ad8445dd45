"""Seed data of the sandbox: demo credentials, applications and WhatsApp numbers.

These values are stable and documented so that users can paste them into a connection, and tests
can rely on them. Timelines are data: each entry is ``(t, overrides)`` where ``t`` is seconds on the
sandbox's virtual clock and ``overrides`` replaces fields from that moment on. The first entry
(t=0) carries every field.
"""

from __future__ import annotations

from typing import Any

# Integrator account: both business lines, may call phoneList.
NXCLOUD_ACCESS_KEY = "sandbox-nx-access-key"
NXCLOUD_ACCESS_SECRET = "sandbox-nx-access-secret"
NXCLOUD_APPKEY = "sandbox-wa-app"
NXCLOUD_LIST_APPKEY = "sandbox-wa-app-list"
NXCLOUD_BROKE_APPKEY = "sandbox-check-broke"

# Another customer, not an integrator: triggers 9007 / 9010 / 210.
NXCLOUD_BASIC_ACCESS_KEY = "sandbox-nx-basic-key"
NXCLOUD_BASIC_ACCESS_SECRET = "sandbox-nx-basic-secret"
NXCLOUD_BASIC_APPKEY = "sandbox-basic-app"

# A customer allowed number checks only: WhatsApp paths answer 1005.
NXCLOUD_CHECKONLY_ACCESS_KEY = "sandbox-nx-checkonly-key"
NXCLOUD_CHECKONLY_ACCESS_SECRET = "sandbox-nx-checkonly-secret"
NXCLOUD_CHECKONLY_APPKEY = "sandbox-checkonly-app"

NXCLOUD_BIZ_NUMBER_CHECK = 1
NXCLOUD_BIZ_WHATSAPP = 2

# Price of one checked number per check level, in NUMBER_CHECK_CURRENCY.
NUMBER_CHECK_PRICES: dict[int, str] = {1: "0.005", 4: "0.03", 5: "0.01"}
NUMBER_CHECK_CURRENCY = "USD"

NXCLOUD_ACCOUNTS: tuple[dict[str, Any], ...] = (
    {
        "access_key": NXCLOUD_ACCESS_KEY,
        "secret": NXCLOUD_ACCESS_SECRET,
        "customer_id": "cust-integrator",
        "biz_types": (NXCLOUD_BIZ_NUMBER_CHECK, NXCLOUD_BIZ_WHATSAPP),
        "integrator": True,
    },
    {
        "access_key": NXCLOUD_BASIC_ACCESS_KEY,
        "secret": NXCLOUD_BASIC_ACCESS_SECRET,
        "customer_id": "cust-basic",
        "biz_types": (NXCLOUD_BIZ_NUMBER_CHECK, NXCLOUD_BIZ_WHATSAPP),
        "integrator": False,
    },
    {
        "access_key": NXCLOUD_CHECKONLY_ACCESS_KEY,
        "secret": NXCLOUD_CHECKONLY_ACCESS_SECRET,
        "customer_id": "cust-checkonly",
        "biz_types": (NXCLOUD_BIZ_NUMBER_CHECK,),
        "integrator": False,
    },
)

# getphone_shape chooses between the two documented getPhone response shapes:
# "keyed" -> data = {"<digits>": [record]}, "list" -> data = {"business_phones": [record, ...]}.
NXCLOUD_APPS: tuple[dict[str, Any], ...] = (
    {
        "appkey": NXCLOUD_APPKEY,
        "customer_id": "cust-integrator",
        "getphone_shape": "keyed",
        "balance": "100.0",
        "phones": ("8613800001234", "14155550123", "6281234567890", "5511987654321", "447700900123"),
    },
    {
        "appkey": NXCLOUD_LIST_APPKEY,
        "customer_id": "cust-integrator",
        "getphone_shape": "list",
        "balance": "100.0",
        "phones": ("8613800001234", "14155550123"),
    },
    {
        "appkey": NXCLOUD_BROKE_APPKEY,
        "customer_id": "cust-integrator",
        "getphone_shape": "keyed",
        "balance": "0",
        "phones": (),
    },
    {
        "appkey": NXCLOUD_BASIC_APPKEY,
        "customer_id": "cust-basic",
        "getphone_shape": "keyed",
        "balance": "100.0",
        "phones": ("6591234567",),
    },
    {
        "appkey": NXCLOUD_CHECKONLY_APPKEY,
        "customer_id": "cust-checkonly",
        "getphone_shape": "keyed",
        "balance": "100.0",
        "phones": (),
    },
)

_CONNECTED_GREEN = {
    "status": "CONNECTED",
    "quality_rating": "GREEN",
    "name_status": "APPROVED",
    "code_verification_status": "VERIFIED",
    "current_limit": "TIER_1K",
    "register_status": 5,
}

NXCLOUD_PHONES: tuple[dict[str, Any], ...] = (
    {
        "phone_number": "8613800001234",
        "waba_id": "100000000000001",
        "waba_name": "Sandbox WABA",
        "timeline": (
            (
                0,
                {
                    **_CONNECTED_GREEN,
                    "display_phone_number": "+86 138 0000 1234",
                    "verified_name": "牛小信科技",
                },
            ),
        ),
    },
    {
        "phone_number": "14155550123",
        "waba_id": "100000000000001",
        "waba_name": "Sandbox WABA",
        "timeline": (
            (
                0,
                {
                    **_CONNECTED_GREEN,
                    "display_phone_number": "+1 415-555-0123",
                    "verified_name": "Glory HK",
                    "quality_rating": "YELLOW",
                    "current_limit": "TIER_250",
                    "code_verification_status": "NOT_VERIFIED",
                },
            ),
        ),
    },
    {
        "phone_number": "6281234567890",
        "waba_id": "100000000000001",
        "waba_name": "Sandbox WABA",
        "timeline": (
            (
                0,
                {
                    "display_phone_number": "+62 812-3456-7890",
                    "verified_name": "Nusantara Shop",
                    "status": "PENDING",
                    "quality_rating": "UNKNOWN",
                    "name_status": "PENDING_REVIEW",
                    "code_verification_status": "NOT_VERIFIED",
                    "current_limit": "",
                    "register_status": 3,
                },
            ),
            (5, {**_CONNECTED_GREEN, "current_limit": "TIER_250"}),
        ),
    },
    {
        "phone_number": "5511987654321",
        "waba_id": "100000000000001",
        "waba_name": "Sandbox WABA",
        "timeline": (
            (
                0,
                {
                    **_CONNECTED_GREEN,
                    "display_phone_number": "+55 11 98765-4321",
                    "verified_name": "Loja Brasil",
                },
            ),
            (4, {"status": "FLAGGED", "quality_rating": "RED"}),
            (8, {"status": "BANNED"}),
        ),
    },
    {
        "phone_number": "447700900123",
        "waba_id": "100000000000001",
        "waba_name": "Sandbox WABA",
        "timeline": (
            (
                0,
                {
                    **_CONNECTED_GREEN,
                    "display_phone_number": "+44 7700 900123",
                    "verified_name": "UK Support",
                    "quality_rating": "RED",
                    "current_limit": "TIER_50",
                },
            ),
        ),
    },
    {
        "phone_number": "6591234567",
        "waba_id": "100000000000002",
        "waba_name": "SG Basic WABA",
        "timeline": (
            (0, {**_CONNECTED_GREEN, "display_phone_number": "+65 9123 4567", "verified_name": "SG Basic"}),
        ),
    },
)
