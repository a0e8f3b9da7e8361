"""Properties computed when first read and kept on their object, with no lock shared among
objects: ``functools.cached_property`` before Python 3.12 holds one lock, the class's, around
every object's computation, so the threads of a camera's process waited for one another's
results, and a process forked while a thread computed one hung for ever at its own first."""

import functools

_MISSING = object()


class cached_property(functools.cached_property):
    """``functools.cached_property`` as Python 3.12 and later have it: each object's value
    computed without a lock and kept in its ``__dict__`` (two threads reading it first at once
    may both compute it; one value is kept)."""

    def __get__(self, instance, owner=None):
        """The value kept on ``instance``, computed the first time."""
        if instance is None:
            return self
        kept = getattr(instance, "__dict__", None)
        if kept is None or self.attrname is None:  # functools' errors (its checks take no lock)
            return super().__get__(instance, owner)
        value = kept.get(self.attrname, _MISSING)
        if value is _MISSING:
            value = kept[self.attrname] = self.func(instance)
        return value
