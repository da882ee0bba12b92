"""Server-side state: the turn cache that lets field-dropping clients keep multi-turn working
(`store.py` the contract, `factory.py` opens a backend: `memory.py`, `sqlite.py`; `scope.py`
keeps each caller's entries apart), the gateway-hosted images kept in it (`hosted_images.py`)
and stored responses (`responses.py`)."""
