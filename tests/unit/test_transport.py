"""The per-loop shared aiohttp session of the transport: lent while in use, closed with its last user."""

from __future__ import annotations

from airflow_provider_wa_phones import transport


async def test_users_of_one_loop_share_one_session_closed_with_the_last():
    async with transport.shared_session() as first, transport.shared_session() as second:
        assert first is second
        assert transport.open_sessions() == 1
    assert first.closed and transport.open_sessions() == 0


async def test_a_session_closed_under_its_users_is_replaced_and_the_replacement_survives_them():
    async with transport.shared_session() as old:
        await old.close()  # e.g. closed by a user that should not have
        async with transport.shared_session() as new:
            assert new is not old and not new.closed
            # The last user of the old session leaves while the new one is still lent out...
        async with transport.shared_session() as again:
            assert again is not old
    # ...and leaving must not have dropped the new session's registration: nothing leaks open.
    assert transport.open_sessions() == 0


async def test_the_old_entry_leaving_does_not_unregister_the_new_one():
    lease_old = transport.shared_session()
    old = await lease_old.__aenter__()
    await old.close()
    lease_new = transport.shared_session()
    new = await lease_new.__aenter__()
    await lease_old.__aexit__(None, None, None)  # the old session's last user leaves
    async with transport.shared_session() as third:
        assert third is new  # still registered: shared, not a second pool
    await lease_new.__aexit__(None, None, None)
    assert new.closed and transport.open_sessions() == 0
