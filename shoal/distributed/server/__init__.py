"""The asyncio servers around the state machines: they move bytes and decide nothing."""
