"""Seed data of the sandbox: demo credentials, applications, spaces and WhatsApp numbers of each service.

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

# --- Alibaba Cloud ChatApp Message Service (CAMS) ---------------------------------------------------
#
# Timelines use the API's own field names (PascalCase), like the NxCloud phones above use theirs.

CAMS_REGION = "ap-southeast-1"

# The main account: subscribed to CAMS, owns both spaces. Its permanent AccessKey may call everything.
CAMS_ACCOUNT_ID = "5123456789012345"
CAMS_ACCESS_KEY_ID = "LTAI5tSandboxCamsKey"
CAMS_ACCESS_KEY_SECRET = "sandbox-cams-access-key-secret"
CAMS_SPACE_ID = "cams-space-demo"  # the main account's default space
CAMS_SECOND_SPACE_ID = "cams-space-second"

# Temporary (STS) credentials of the main account: every request must carry the security token.
CAMS_STS_ACCESS_KEY_ID = "STS.sandboxCamsTemporary"
CAMS_STS_ACCESS_KEY_SECRET = "sandbox-cams-sts-secret"
CAMS_STS_SECURITY_TOKEN = "sandbox-cams-sts-token-7f3a9c"

# STS credentials whose token expired (at 2023-11-14 22:13:20 UTC): InvalidSecurityToken.Expired.
CAMS_EXPIRED_STS_ACCESS_KEY_ID = "STS.sandboxCamsExpired"
CAMS_EXPIRED_STS_ACCESS_KEY_SECRET = "sandbox-cams-expired-sts-secret"
CAMS_EXPIRED_STS_SECURITY_TOKEN = "sandbox-cams-expired-sts-token-1c8e"
CAMS_EXPIRED_STS_EXPIRES_AT = 1_700_000_000.0

# A permanent AccessKey that was disabled in the RAM console: InvalidAccessKeyId.Inactive.
CAMS_INACTIVE_ACCESS_KEY_ID = "LTAI5tSandboxInactive"
CAMS_INACTIVE_ACCESS_KEY_SECRET = "sandbox-inactive-secret"

# An account that never subscribed to CAMS: every call answers Product.Unsubscript.
CAMS_NOCAMS_ACCOUNT_ID = "5987654321098765"
CAMS_NOCAMS_ACCESS_KEY_ID = "LTAI5tSandboxNoCams"
CAMS_NOCAMS_ACCESS_KEY_SECRET = "sandbox-nocams-secret"

# A RAM user of the main account without any cams:* permission: every call answers Ram.PermissionDeny.
CAMS_RAM_DENIED_ACCESS_KEY_ID = "LTAI5tSandboxRamDenied"
CAMS_RAM_DENIED_ACCESS_KEY_SECRET = "sandbox-ramdenied-secret"

CAMS_ACCOUNTS: tuple[dict[str, Any], ...] = (
    {"account_id": CAMS_ACCOUNT_ID, "subscribed": True, "default_space_id": CAMS_SPACE_ID},
    {"account_id": CAMS_NOCAMS_ACCOUNT_ID, "subscribed": False, "default_space_id": None},
)

# actions None: every operation (an account's own AccessKey); otherwise the RAM-granted operations.
CAMS_ACCESS_KEYS: tuple[dict[str, Any], ...] = (
    {
        "key_id": CAMS_ACCESS_KEY_ID,
        "secret": CAMS_ACCESS_KEY_SECRET,
        "account_id": CAMS_ACCOUNT_ID,
        "security_token": None,
        "actions": None,
    },
    {
        "key_id": CAMS_STS_ACCESS_KEY_ID,
        "secret": CAMS_STS_ACCESS_KEY_SECRET,
        "account_id": CAMS_ACCOUNT_ID,
        "security_token": CAMS_STS_SECURITY_TOKEN,
        "actions": None,
    },
    {
        "key_id": CAMS_EXPIRED_STS_ACCESS_KEY_ID,
        "secret": CAMS_EXPIRED_STS_ACCESS_KEY_SECRET,
        "account_id": CAMS_ACCOUNT_ID,
        "security_token": CAMS_EXPIRED_STS_SECURITY_TOKEN,
        "actions": None,
        "token_expires_at": CAMS_EXPIRED_STS_EXPIRES_AT,
    },
    {
        "key_id": CAMS_INACTIVE_ACCESS_KEY_ID,
        "secret": CAMS_INACTIVE_ACCESS_KEY_SECRET,
        "account_id": CAMS_ACCOUNT_ID,
        "security_token": None,
        "actions": None,
        "active": False,
    },
    {
        "key_id": CAMS_NOCAMS_ACCESS_KEY_ID,
        "secret": CAMS_NOCAMS_ACCESS_KEY_SECRET,
        "account_id": CAMS_NOCAMS_ACCOUNT_ID,
        "security_token": None,
        "actions": None,
    },
    {
        "key_id": CAMS_RAM_DENIED_ACCESS_KEY_ID,
        "secret": CAMS_RAM_DENIED_ACCESS_KEY_SECRET,
        "account_id": CAMS_ACCOUNT_ID,
        "security_token": None,
        "actions": (),
    },
)

CAMS_SPACES: tuple[dict[str, str], ...] = (
    {"space_id": CAMS_SPACE_ID, "account_id": CAMS_ACCOUNT_ID},
    {"space_id": CAMS_SECOND_SPACE_ID, "account_id": CAMS_ACCOUNT_ID},
)

_CAMS_CALLING_OFF: dict[str, Any] = {"Calling": {"Status": "DISABLED"}}
_CAMS_CALLING_ON: dict[str, Any] = {
    "Calling": {
        "Status": "ENABLED",
        "CallHours": {
            "Status": "ENABLED",
            "TimezoneId": "Asia/Shanghai",
            "CallIconVisibility": "DEFAULT",
            "CallbackPermissionStatus": "ENABLED",
            "WeeklyOperatingHours": [
                {"DayOfWeek": day, "OpenTime": "0900", "CloseTime": "1800"}
                for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
            ],
            "HolidaySchedule": [{"Date": "2025-10-01", "StartTime": "0000", "EndTime": "2359"}],
        },
    },
    "CallingCallbackUrl": "https://sandbox.example.com/cams/calling",
    "MaxTalkTime": 600,
}


def _cams_phone_fields(verified_name: str, **overrides: Any) -> dict[str, Any]:
    """Every field of a CAMS phone item (except PhoneNumber): a healthy number, then ``overrides``."""
    return {
        "VerifiedName": verified_name,
        "Status": "CONNECTED",
        "QualityRating": "GREEN",
        "CodeVerificationStatus": "VERIFIED",
        "NameStatus": "Approval",
        "NewNameStatus": "None",
        "MessagingLimitTier": "TIER_1K",
        "StatusCallbackUrl": "https://sandbox.example.com/cams/status",
        "UpCallbackUrl": "https://sandbox.example.com/cams/inbound",
        "StatusQueue": "Alicom-Queue-5123456789012345-ChatAppStatus",
        "UpQueue": "Alicom-Queue-5123456789012345-ChatAppInbound",
        "IsOfficial": "false",
        "CallingConfigure": _CAMS_CALLING_OFF,
        **overrides,
    }


def _cams_profile(**fields: Any) -> dict[str, Any]:
    return {
        "Address": "",
        "Description": "",
        "Vertical": "Retail",
        "Email": "",
        "ProfilePictureUrl": "",
        "Websites": [],
        "About": "",
        **fields,
    }


CAMS_PHONES: tuple[dict[str, Any], ...] = (
    {
        "phone_number": "8613900001111",
        "space_id": CAMS_SPACE_ID,
        "timeline": (
            (
                0,
                _cams_phone_fields(
                    "Ali Demo Store",
                    MessagingLimitTier="TIER_10K",
                    IsOfficial="true",
                    CallingConfigure=_CAMS_CALLING_ON,
                ),
            ),
        ),
        "profile": _cams_profile(
            Address="长沙市岳麓区",
            Description="阿里演示商店 · Ali Demo Store",
            Email="store@sandbox.example.com",
            ProfilePictureUrl="https://sandbox.example.com/cams/ali-demo-store.png",
            Websites=["https://sandbox.example.com/ali-demo-store", "https://alibaba.com"],
            About="营业时间 9:00-18:00",
        ),
    },
    {
        "phone_number": "6591110000",
        "space_id": CAMS_SPACE_ID,
        "timeline": (
            (
                0,
                _cams_phone_fields(
                    "SG Sender",
                    Status="PENDING",
                    QualityRating="UNKNOWN",
                    CodeVerificationStatus="NOT_VERIFIED",
                    NameStatus="Pending_Review",
                    MessagingLimitTier="TIER_50",
                ),
            ),
            (
                5,
                {
                    "Status": "CONNECTED",
                    "QualityRating": "GREEN",
                    "CodeVerificationStatus": "VERIFIED",
                    "NameStatus": "Approval",
                    "MessagingLimitTier": "TIER_250",
                },
            ),
        ),
        "profile": _cams_profile(
            Address="1 Raffles Place, Singapore 048616",
            Description="Notifications from SG Sender",
            Vertical="Professional Services",
            Email="ops@sg-sender.example.com",
            Websites=["https://sg-sender.example.com"],
            About="Alerts only",
        ),
    },
    {
        "phone_number": "6281299990000",
        "space_id": CAMS_SPACE_ID,
        "timeline": (
            (0, _cams_phone_fields("Toko Jaya", MessagingLimitTier="TIER_1K")),
            (3, {"Status": "FLAGGED", "QualityRating": "YELLOW"}),
            (9, {"Status": "BANNED", "QualityRating": "RED"}),
        ),
        "profile": _cams_profile(
            Address="Jl. Sudirman No. 1, Jakarta",
            Description="Toko kelontong daring",
            Websites=["https://tokojaya.example.co.id"],
            About="Belanja mudah",
        ),
    },
    {
        "phone_number": "60123456789",
        "space_id": CAMS_SPACE_ID,
        "timeline": (
            (0, _cams_phone_fields("MY Shop", QualityRating="YELLOW", MessagingLimitTier="TIER_1K")),
        ),
        "profile": _cams_profile(Address="Kuala Lumpur", Description="MY Shop online", Websites=[]),
    },
    {
        "phone_number": "971501234567",
        "space_id": CAMS_SECOND_SPACE_ID,
        "timeline": ((0, _cams_phone_fields("Gulf Traders", MessagingLimitTier="TIER_10K")),),
        "profile": _cams_profile(
            Address="Dubai Marina, Dubai",
            Description="تجار الخليج · Gulf Traders",
            Vertical="Wholesale",
            Email="hello@gulf-traders.example.ae",
            Websites=["https://gulf-traders.example.ae"],
            About="Trading since 1999",
        ),
    },
)


# --- Alibaba Cloud STS, a credentials URI and the ECS instance metadata service -------------------
#
# Roles of the main CAMS account. The keys STS hands out act as that account (every CAMS operation).
STS_ACCOUNT_ID = CAMS_ACCOUNT_ID
# Trusts the account: AssumeRole with any of its AccessKeys (or STS keys it issued: chained roles).
STS_ROLE_NAME = "wa-phones-cams-reader"
STS_ROLE_ARN = f"acs:ram::{STS_ACCOUNT_ID}:role/{STS_ROLE_NAME}"
# Trusts the OIDC provider below only (RRSA): AssumeRoleWithOIDC; AssumeRole on it is NoPermission.
STS_OIDC_ROLE_NAME = "wa-phones-rrsa"
STS_OIDC_ROLE_ARN = f"acs:ram::{STS_ACCOUNT_ID}:role/{STS_OIDC_ROLE_NAME}"
# No such role: EntityNotExist.Role.
STS_UNKNOWN_ROLE_ARN = f"acs:ram::{STS_ACCOUNT_ID}:role/no-such-role"
STS_OIDC_PROVIDER_NAME = "wa-phones-sandbox-idp"
STS_OIDC_PROVIDER_ARN = f"acs:ram::{STS_ACCOUNT_ID}:oidc-provider/{STS_OIDC_PROVIDER_NAME}"
# Registered in no account: AuthenticationFail.NoPermission ("No such OIDC Provider registered.").
STS_UNKNOWN_OIDC_PROVIDER_ARN = f"acs:ram::{STS_ACCOUNT_ID}:oidc-provider/no-such-idp"
# The issuer and audience of the OIDC tokens the sandbox issues (an ACK cluster's, in real life).
STS_OIDC_ISSUER = "https://oidc.sandbox.wa-phones.invalid"
STS_OIDC_AUDIENCE = "sts.aliyuncs.com"
STS_OIDC_SUBJECT = "system:serviceaccount:airflow:airflow-worker"
# A role's MaxSessionDuration: DurationSeconds must lie in 900..this.
STS_MAX_SESSION_DURATION = 3600
# The RAM role attached to the emulated ECS instance (the metadata service lists this one name), and
# the roles the credentials URI hands keys for (``?role=``; the first one when none is named).
STS_ECS_ROLE_NAME = "wa-phones-ecs-role"
STS_URI_ROLE_NAMES = ("wa-phones-uri-role", STS_ROLE_NAME)

STS_ROLES: tuple[dict[str, Any], ...] = (
    {
        "arn": STS_ROLE_ARN,
        "account_id": STS_ACCOUNT_ID,
        "trusted_accounts": (STS_ACCOUNT_ID,),
        "trusted_oidc_providers": (),
        "max_session_duration": STS_MAX_SESSION_DURATION,
    },
    {
        "arn": STS_OIDC_ROLE_ARN,
        "account_id": STS_ACCOUNT_ID,
        "trusted_accounts": (),
        "trusted_oidc_providers": (STS_OIDC_PROVIDER_ARN,),
        "max_session_duration": STS_MAX_SESSION_DURATION,
    },
)


# --- timelines ------------------------------------------------------------------------------------


def timeline_span() -> float:
    """The virtual second of the last change in any seed number's timeline (both services)."""
    return float(max(start for phone in (*NXCLOUD_PHONES, *CAMS_PHONES) for start, _ in phone["timeline"]))


def timeline_time(elapsed: float, cycle: float | None) -> float:
    """Where the timelines stand after ``elapsed`` virtual seconds: with a ``cycle`` (seconds, the
    sandbox's long-running mode) they start over every ``cycle`` seconds, so numbers go back to
    their first state and change again, for as long as the sandbox runs."""
    return elapsed % cycle if cycle else elapsed
