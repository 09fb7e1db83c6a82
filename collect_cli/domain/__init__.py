"""Pure collections logic: no I/O, no clock, every figure as of an explicit date."""
