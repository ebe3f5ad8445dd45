# ruff: noqa: E501 - prose: one rule per line reads best
"""What each row of test_bad_input.py's tables means to a reader: the rule it checks and its
example bad value, in words. The docs' validation page is generated from these and the rows
themselves (where, parameter, error message); a test checks that every row has its words here."""

from __future__ import annotations

#: row id -> (rule, example bad value as shown), both Markdown.
RULE_TEXTS: dict[str, tuple[str, str]] = {
    "hook-phones-letters": (
        "each number: digits, spaces and `+ ( ) . - /` only (no letters, no extensions)",
        "`'+1 800 FLOWERS'`",
    ),
    "hook-phones-too-short": (
        "each number: a possible length for its country code",
        "`'+86 1'`",
    ),
    "hook-phones-several-bad": (
        "every bad entry is reported in one error (the good ones are not)",
        "`['8613800001234', 'abc', '12']`",
    ),
    "hook-phones-many-bad": (
        "the first five bad entries are shown, then a count",
        "`['a', 'b', 'c', 'd', 'e', 'f', 'g']`",
    ),
    "hook-phones-empty-list": (
        'at least one number (`get_phone_info` alone reads omitted/empty as "all numbers")',
        "`[]`",
    ),
    "hook-phones-none": (
        "at least one number",
        "`None`",
    ),
    "hook-phones-only-separators": (
        "a string is split on `,` `;` and new lines; blank parts are dropped",
        "`' , ;'`",
    ),
    "hook-phones-mapping": (
        "a list or a string, not a dict",
        "`{'cn': '8613800001234'}`",
    ),
    "hook-appkey-spaces": (
        "1 to 128 characters, no whitespace",
        "`'two words'`",
    ),
    "hook-appkey-empty": (
        "an explicit `appkey=` replaces the connection's, so it must be valid too",
        "`''`",
    ),
    "hook-appkey-not-in-connection": (
        "required: `appkey=` or the connection's `appkey` extra",
        "connection without `appkey`",
    ),
    "hook-check-level-not-a-number": (
        "a whole number (a templated `'4'` is fine)",
        "`'HLR'`",
    ),
    "hook-check-level-unknown": (
        "1, 4 or 5",
        "`3`",
    ),
    "hook-batch-no-too-long": (
        "a non-empty string of at most 64 characters",
        "`'b' * 65`",
    ),
    "hook-batch-no-empty": (
        "non-empty when given (omit it to let NxCloud number the batch)",
        "`''`",
    ),
    "hook-batch-no-with-country-suffix": (
        "with phones from several countries, at most 64 characters including the `-<country>` suffix",
        "`'b' * 62` with a CN and a US number",
    ),
    "hook-dr-url-not-a-url": (
        "an `http://` or `https://` URL without spaces",
        "`'example.com/dr'`",
    ),
    "hook-date-format": (
        "`yyyy-MM-dd` (or a `date` / `datetime`)",
        "`'22-11-2026'`",
    ),
    "hook-date-not-in-calendar": (
        "a real calendar day",
        "`'2026-02-30'`",
    ),
    "hook-date-too-old": (
        "within the 14 days NxCloud keeps (UTC today - 14 to today + 1)",
        "`'2020-01-01'`",
    ),
    "hook-date-in-the-future": (
        "not after tomorrow (UTC)",
        "`'2999-01-01'`",
    ),
    "hook-query-needs-batch-or-message": (
        "`batch_no` or `message_id` is required",
        "neither given",
    ),
    "hook-page-zero": (
        "a whole number >= 1",
        "`0`",
    ),
    "hook-page-negative": (
        "a whole number >= 1 (a minus sign fails the whole-number test first)",
        "`-1`",
    ),
    "hook-page-size-too-big": (
        "a whole number from 1 to 100",
        "`500`",
    ),
    "hook-page-size-fraction": (
        "a whole number (checked before the first page is fetched)",
        "`2.5`",
    ),
    "hook-message-id-too-long": (
        "a non-empty string of at most 64 characters",
        "`'m' * 65`",
    ),
    "hook-query-batch-no-too-long": (
        "a non-empty string of at most 64 characters",
        "`'b' * 65`",
    ),
    "hook-query-phone-letters": (
        "one number: digits, spaces and `+ ( ) . - /` only",
        "`'abc'`",
    ),
    "hook-query-phone-too-short": (
        "one number: a possible length for its country code",
        "`'12'`",
    ),
    "hook-query-appkey": (
        "when given (it is optional here), 1 to 128 characters, no whitespace",
        "`'two words'`",
    ),
    "hook-cams-status-unknown": (
        "one of the documented statuses, any case",
        "`'ONLINE'`",
    ),
    "hook-cams-space-format": (
        "1 to 128 of letters, digits, `_ - . :`",
        "`'a b'`",
    ),
    "hook-cams-isv-code": (
        "1 to 128 of letters, digits, `_ - . :`",
        "`'bad code'`",
    ),
    "hook-cams-profile-phone-missing": (
        "required",
        "`''`",
    ),
    "hook-cams-profile-phone-letters": (
        "a phone number (normalised as above)",
        "`'not a phone'`",
    ),
    "hook-cams-profile-space-format": (
        "1 to 128 of letters, digits, `_ - . :`",
        "`'bad space'`",
    ),
    "hook-cams-profile-space-required": (
        "required: `cust_space_id=` or the connection's `cust_space_id` extra",
        "neither set",
    ),
    "op-info-phones": (
        "as NxCloudHook `phones`; a string's parts keep their spaces in the message",
        "`'+86 138 0000 1234, 12345'`",
    ),
    "op-info-appkey": (
        "as NxCloudHook `appkey`",
        "`'two words'`",
    ),
    "op-list-appkey-not-in-connection": (
        "required: `appkey=` or the connection's `appkey` extra",
        "connection without `appkey`",
    ),
    "op-check-phones-empty": (
        "at least one number (a template that renders empty fails here)",
        "`''`",
    ),
    "op-check-level-templated": (
        "1, 4 or 5; a rendered string is read as a number",
        "`'2'`",
    ),
    "op-check-batch-no-with-country-suffix": (
        "at most 64 characters including the `-<country>` suffix",
        "`'b' * 62` with a CN and a US number",
    ),
    "op-check-dr-url": (
        "an `http://` or `https://` URL",
        "`'ftp://example.com/dr'`",
    ),
    "op-results-batches-and-query": (
        "either `batches` or `date` with `batch_no`/`message_id`, not both",
        "`batches=[...]` and `date=...`",
    ),
    "op-results-batches-shape": (
        "a list of dicts (or one dict), as NxCloudNumberCheckOperator returns",
        "`'campaign-7'`",
    ),
    "op-results-needs-batch-or-message": (
        "without `batches`, `batch_no` or `message_id` is required",
        "only `date`",
    ),
    "op-results-date-too-old": (
        "within the 14-day window",
        "`'2020-01-01'`",
    ),
    "op-results-batch-without-date": (
        "every batch entry needs its `date` (or `dates`)",
        "`[{'batch_no': 'campaign-7', 'phone_count': 2}]`",
    ),
    "op-results-batch-empty-batch-no": (
        "an entry's `batch_no`, when present, is non-empty (an entry is data: `''` is not read as \"none\")",
        "`[{'batch_no': '', 'message_id': '0', 'date': ...}]`",
    ),
    "op-results-second-batch-bad": (
        "every batch is checked before the first page of any is read",
        "second of two batches dated `'2020-01-01'`",
    ),
    "op-results-page-size": (
        "a whole number from 1 to 100",
        "`0`",
    ),
    "op-results-phone": (
        "one number (normalised as above)",
        "`'hello'`",
    ),
    "op-cams-numbers-status": (
        "one of the documented statuses, any case",
        "`'active'`",
    ),
    "op-cams-numbers-isv-code": (
        "1 to 128 of letters, digits, `_ - . :`",
        "`'a/b'`",
    ),
    "op-cams-numbers-space": (
        "1 to 128 of letters, digits, `_ - . :`",
        "`'x' * 129`",
    ),
    "op-cams-profile-phone-none": (
        "required",
        "`None`",
    ),
    "op-cams-profile-phone-too-short": (
        "a possible length for its country code",
        "`'+65 12'`",
    ),
    "op-cams-profile-space-required": (
        "required: `cust_space_id=` or the connection's `cust_space_id` extra",
        "neither set",
    ),
    "sensor-check-nothing-to-wait-for": (
        "one of `batches`, `batch_no` with `expected_count`, or `message_id`",
        "only `date`",
    ),
    "sensor-check-expected-count-required": (
        "`expected_count` is required with `batch_no`",
        "`batch_no='campaign-7'` alone",
    ),
    "sensor-check-expected-count-zero": (
        "a whole number >= 1 (never succeed on nothing)",
        "`0`",
    ),
    "sensor-check-expected-count-negative": (
        "a whole number >= 1",
        "`'-3'`",
    ),
    "sensor-check-expected-count-bool": (
        "a whole number >= 1, not a bool",
        "`True`",
    ),
    "sensor-check-batches-and-batch-no": (
        "either `batches` or `batch_no`/`message_id`/`expected_count`/`date`, not both",
        "`batches=[...]` and `batch_no=...`",
    ),
    "sensor-check-batches-empty": (
        "a non-empty list of dicts (or one dict)",
        "`[]`",
    ),
    "sensor-check-batches-shape": (
        "a non-empty list of dicts (or one dict)",
        "`['campaign-7']`",
    ),
    "sensor-check-batch-phone-count-zero": (
        "each entry's `phone_count` a whole number >= 1",
        "`phone_count=0`",
    ),
    "sensor-check-batch-without-id": (
        "each entry needs a `batch_no` or `message_id`",
        "`[{'date': today, 'phone_count': 1}]`",
    ),
    "sensor-check-date-missing": (
        "`date` in `yyyy-MM-dd` is required",
        "not given",
    ),
    "sensor-check-date-too-old": (
        "within the 14-day window",
        "`'2020-01-01'`",
    ),
    "sensor-check-message-id-too-long": (
        "at most 64 characters",
        "`'m' * 65`",
    ),
    "sensor-check-appkey": (
        "when given, 1 to 128 characters, no whitespace",
        "`'two words'`",
    ),
    "sensor-nx-status-phones-empty": (
        "at least one number",
        "`[]`",
    ),
    "sensor-nx-status-phones-bad": (
        "every number valid (normalised as above)",
        "`'+86 138 0000 1234; +1 800 FLOWERS'`",
    ),
    "sensor-nx-status-target-empty": (
        "a non-blank string (upper-cased)",
        "`' '`",
    ),
    "sensor-nx-status-failures-a-string": (
        "a list of strings, not one string",
        "`'BANNED'`",
    ),
    "sensor-nx-status-failures-contain-target": (
        "must not contain the target status (compared upper-cased)",
        "`target_status='connected'`, `['banned', 'Connected']`",
    ),
    "sensor-nx-status-appkey": (
        "1 to 128 characters, no whitespace",
        "`''`",
    ),
    "sensor-cams-status-phones-none": (
        "at least one number",
        "`None`",
    ),
    "sensor-cams-status-phones-too-short": (
        "every number a possible length for its country code",
        "`['6512']`",
    ),
    "sensor-cams-status-target-not-a-string": (
        "a non-blank string",
        "`1`",
    ),
    "sensor-cams-status-failures-not-strings": (
        "a list of strings",
        "`['BANNED', 3]`",
    ),
    "sensor-cams-status-failures-contain-target": (
        "must not contain the target status (compared upper-cased)",
        "`target_status='PENDING'`, `['Pending']`",
    ),
    "sensor-cams-status-space": (
        "1 to 128 of letters, digits, `_ - . :`",
        "`'demo space'`",
    ),
    "conn-nx-login-missing": (
        "login (access key) is required",
        "no login",
    ),
    "conn-nx-password-missing": (
        "password (access secret) is required",
        "`''`",
    ),
    "conn-nx-login-newline": (
        "visible ASCII without spaces or control characters; the value is never shown",
        "login `'sandbox-access-key\\n'`",
    ),
    "conn-nx-password-space": (
        "likewise for the access secret",
        "a secret with spaces",
    ),
    "conn-nx-appkey-newline": (
        "the whole value is an appkey: a trailing newline is refused",
        "extra `appkey='sandbox-wa-app\\n'`",
    ),
    "conn-nx-extra-not-json": (
        "valid JSON (Airflow alone would drop it silently, and the appkey with it)",
        "`\"{'appkey': ...}\"`",
    ),
    "conn-nx-host-not-a-url": (
        "an http(s) URL, or a host name (schema field as scheme, https when empty)",
        "`'ftp://files.example.com'`",
    ),
    "conn-cams-token-newline": (
        "visible ASCII without spaces or control characters; the value is never shown",
        "extra `security_token='CAIS...\\n'`",
    ),
    "conn-cams-extra-not-json": (
        "valid JSON (otherwise the region and STS token would silently vanish)",
        "`'region=ap-southeast-1'`",
    ),
    "conn-cams-schema": (
        "a host without a scheme takes the schema field, http or https",
        "host `'cams.example.com'`, schema `'ftp'`",
    ),
    "conn-cams-space-format": (
        "the connection's `cust_space_id` extra is checked as the argument is",
        "extra `cust_space_id='demo space'`",
    ),
    "conn-nx-sign-algorithm": (
        "extra `sign_algorithm`: md5 or sha256 (any case), default md5",
        "`'sha1'`",
    ),
    "conn-nx-sign-algorithm-via-sensor": (
        "sensors fail at once on a connection error, they do not keep poking",
        "`'hmac'`",
    ),
    "conn-cams-login-missing": (
        "login (or extra `access_key_id`) is required",
        "`''`",
    ),
    "conn-cams-password-missing": (
        "password (or extra `access_key_secret`) is required",
        "no password",
    ),
    "conn-cams-region": (
        "extra `region`: a lower-case region id, default ap-southeast-1",
        "`'Singapore'`",
    ),
    "conn-cams-region-via-sensor": (
        "sensors fail at once on a connection error, they do not keep poking",
        "`'AP-SOUTHEAST-1'`",
    ),
    "hook-phones-float-in-list": (
        "a float (spreadsheet or pandas value) is refused: its `.0` would become a digit",
        "`[8613800001234.0]`",
    ),
    "hook-phones-float": (
        "a single float is refused the same way",
        "`8613800001234.0`",
    ),
    "op-results-empty-batches": (
        "must not be empty",
        "`[]`",
    ),
    "op-results-output-path-folder": (
        "names a file: a value ending in `/` is refused (the results would not be where the task says)",
        "`'file:///tmp/wa-phones-checks/'`",
    ),
    "op-results-output-path-scheme-only": (
        "a scheme alone names no file",
        "`'file://'`",
    ),
    "op-results-output-path-existing-folder": (
        "not an existing folder (the file would land inside it)",
        "`'file:///tmp'`",
    ),
    "op-results-max-xcom-records-zero": (
        "a whole number >= 1, checked before any request",
        "`0`",
    ),
    "sensor-nx-status-failures-none": (
        "a list of statuses (None is refused)",
        "`None`",
    ),
    "conn-nx-sign-algorithm-not-text": (
        "md5 or sha256 (a number is refused)",
        "`256`",
    ),
    "conn-nx-host-path": (
        "scheme, host and port only: a path is refused (the service's paths are added to the host)",
        "`'http://127.0.0.1:9/proxy'`",
    ),
    "conn-nx-host-query": (
        "no query (`?`)",
        "`'http://127.0.0.1:9?x=1'`",
    ),
    "conn-cams-host-fragment": (
        "no fragment (`#`: it would cut every CAMS query parameter off)",
        "`'http://127.0.0.1:9#x'`",
    ),
    "conn-cams-host-userinfo": (
        "no `user:password@` (credentials go in login and password); the value is never shown",
        "`'http://user:pw@127.0.0.1:9'`",
    ),
    "conn-nx-host-port-zero": (
        "a port from 1 to 65535",
        "`'0:0'`",
    ),
    "conn-cams-host-port-zero": (
        "a port from 1 to 65535; the scheme in any case (`HTTP://` reads as `http://`)",
        "`'HTTP://0:0'`",
    ),
    "hook-dr-url-no-host": (
        "an `http://` or `https://` URL with a host",
        "`'https:///cb'`",
    ),
    "hook-reuse-since-far-future": (
        "a timezone-aware datetime not in the future (a minute of slack); one older than the 14 days the service keeps reads as 14 days ago",
        "`datetime.max` (UTC)",
    ),
    "op-cams-rate-limit-huge": (
        "None, or calls per second from 1 to 1000 (CamsHook and every CAMS operator and sensor)",
        "`2**63`",
    ),
    "op-results-output-path-nul": (
        "no NUL character",
        "`'/tmp/wa-phones-checks/a\\x00b.jsonl'`",
    ),
    "op-results-output-path-too-long": (
        "at most 4,096 characters",
        "a path of 1,048,581 characters",
    ),
    "op-results-output-path-s3-without-s3fs": (
        "a storage scheme this installation can open; the error says what to install",
        "`'s3://bucket/results.jsonl'` without s3fs",
    ),
    "sensor-check-expected-count-huge": (
        "at most 1,000,000 (also each entry's `phone_count`)",
        "`10**5000`",
    ),
    "sensor-check-batch-date-empty": (
        "each entry's `date` a day in `yyyy-MM-dd` (an entry is data: `''` is not \"today\")",
        "`[{'message_id': 'm-1', 'date': '', 'phone_count': 1}]`",
    ),
    "op-results-more-than-max-xcom-records": (
        "without `output_path`, at most `max_xcom_records` (default 1000) records go to XCom",
        "30 results, `max_xcom_records=10`",
    ),
}
