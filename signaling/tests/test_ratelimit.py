from signaling.ratelimit import TokenBucket


def test_burst_then_sustained_rate():
    bucket = TokenBucket(rate=50, burst=200)
    start = bucket.updated
    assert all(bucket.take(start) for _ in range(200))
    assert not bucket.take(start)
    # 50 per second sustained: one token every 20 ms.
    assert bucket.take(start + 0.021)
    assert not bucket.take(start + 0.021)
    assert sum(bucket.take(start + 1.021 + i / 1000) for i in range(60)) in range(50, 54)


def test_refill_never_exceeds_the_burst():
    bucket = TokenBucket(rate=10, burst=3)
    later = bucket.updated + 3600
    assert [bucket.take(later) for _ in range(4)] == [True, True, True, False]


def test_clock_going_backwards_adds_nothing():
    bucket = TokenBucket(rate=10, burst=1)
    now = bucket.updated
    assert bucket.take(now)
    assert not bucket.take(now - 5)
