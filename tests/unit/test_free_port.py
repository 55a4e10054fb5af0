"""Services started together each get their own port: the kernel offers the same free port again
often enough (2,000 draws from ~28,000 ephemeral ports repeat dozens of times) that a test
platform once had its orders address answered by another service."""

from kongfu.local import free_port


def test_free_port_never_hands_out_a_port_twice():
    ports = [free_port() for _ in range(2000)]
    assert len(set(ports)) == len(ports)
