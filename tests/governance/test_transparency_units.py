from openeis.governance.transparency import suppress


def test_small_counts_are_suppressed_zero_and_large_are_not():
    assert suppress(0, 5) == 0
    assert suppress(1, 5) == "<5"
    assert suppress(4, 5) == "<5"
    assert suppress(5, 5) == 5
