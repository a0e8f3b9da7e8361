"""edge_runtime.cached.cached_property: functools.cached_property with no lock held among
objects, and functools' behaviour otherwise."""

import threading

import pytest

from edge_runtime.cached import cached_property


class _Counted:
    def __init__(self):
        self.computed = 0

    @cached_property
    def value(self) -> int:
        """The number of computations so far."""
        self.computed += 1
        return self.computed


def test_a_value_is_computed_once_and_kept_on_its_object():
    one, other = _Counted(), _Counted()
    assert (one.value, one.value, one.computed) == (1, 1, 1)
    assert one.__dict__["value"] == 1 and other.computed == 0
    del one.value
    assert one.value == 2  # computed again once forgotten
    assert isinstance(_Counted.value, cached_property)
    assert _Counted.value.__doc__ == "The number of computations so far."


def test_a_computation_that_raises_is_tried_again_next_time():
    class Failing:
        tries = 0

        @cached_property
        def value(self):
            Failing.tries += 1
            if Failing.tries == 1:
                raise ValueError("not yet")
            return "done"

    failing = Failing()
    with pytest.raises(ValueError, match="not yet"):
        _ = failing.value
    assert "value" not in failing.__dict__
    assert failing.value == "done" and Failing.tries == 2


def test_one_objects_computation_holds_up_no_others():
    """functools.cached_property before Python 3.12 holds its class's lock around every
    object's computation: a thread's slow one held up the others' (and a process forked
    meanwhile hung at its first)."""
    started, release = threading.Event(), threading.Event()

    class Held:
        @cached_property
        def value(self):
            if self.slow:
                started.set()
                release.wait(30)
            return self.slow

        def __init__(self, slow):
            self.slow = slow

    thread = threading.Thread(target=lambda: Held(True).value)
    thread.start()
    try:
        assert started.wait(30)
        read = []
        other = threading.Thread(target=lambda: read.append(Held(False).value))
        other.start()
        other.join(5)
        assert read == [False]  # read while the first is still computing
    finally:
        release.set()
        thread.join(30)


def test_misuse_is_refused_as_functools_refuses_it():
    """A property given to a class after it was made has no name: two such kept their values
    under one key, None, and the second read the first's; one on an object without a
    ``__dict__`` raised AttributeError."""

    class Late:
        pass

    Late.first = cached_property(lambda self: "first")
    with pytest.raises(TypeError, match="__set_name__"):
        _ = Late().first

    class Slotted:
        __slots__ = ()

        @cached_property
        def value(self):
            return 1

    with pytest.raises(TypeError, match="No '__dict__' attribute"):
        _ = Slotted().value
