"""Server-side state: the turn cache that lets field-dropping clients keep multi-turn working."""

from gateway.state.store import (
    StoreClosedError,
    StoreError,
    StoreStats,
    TurnStore,
    open_store,
)

__all__ = ["StoreClosedError", "StoreError", "StoreStats", "TurnStore", "open_store"]
