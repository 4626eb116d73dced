"""The pure state machines of shoal.distributed: events in, actions out, no I/O."""
