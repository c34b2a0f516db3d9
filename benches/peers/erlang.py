"""Erlang C: the mean wait in queue of M/M/c (the closed form every side is checked against)."""


def erlang_c_wait(c, lam, mu):
    """Mean wait in queue W_q = C(c, a) / (c mu - lam), with a = lam / mu and the Erlang B
    recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)), C = B / (1 - rho (1 - B))."""
    a = lam / mu
    rho = a / c
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    p_wait = b / (1.0 - rho * (1.0 - b))
    return p_wait / (c * mu - lam)
