"""Scopes (gateway/state/scope.py): one id per credential, a key prefix every backend keeps."""

from __future__ import annotations

import pytest
from turnstore_helpers import StoreFactory

from gateway.state.scope import SHARED_SCOPE, ScopedStore, scope_for

pytestmark = pytest.mark.anyio


def test_a_scope_id_is_stable_per_credential_and_never_the_credential() -> None:
    a, b = scope_for("sk-tenant-a"), scope_for("sk-tenant-b")
    assert a == scope_for("sk-tenant-a") and a != b
    assert "tenant" not in a and len(a) == 32
    assert scope_for(None) == SHARED_SCOPE
    assert SHARED_SCOPE not in {a, b}


async def test_scoped_views_of_one_store_never_see_each_other(make_store: StoreFactory) -> None:
    store = make_store()
    a, b = ScopedStore(store, scope_for("a")), ScopedStore(store, scope_for("b"))
    record = b"turn"
    await a.put_many({"v:same": record, "c:call_1": record})
    assert await a.get_many(["v:same", "c:call_1", "v:other"]) == {
        "v:same": record,
        "c:call_1": record,
    }
    assert await a.get("v:same") == record
    assert await b.get_many(["v:same", "c:call_1"]) == {}
    assert await b.get("v:same") is None
    assert await store.get("v:same") is None  # nothing lands outside a scope
    assert (await store.stats()).values == 1  # one value however many keys
