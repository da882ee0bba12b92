"""Shapes that cross layers, pure (no I/O): the bottom import layer, so translate/, state/
and serving/ can all share them. `turn_record.py`: what the turn cache remembers of a model turn."""
