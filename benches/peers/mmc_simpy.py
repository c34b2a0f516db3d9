"""M/M/c in SimPy, written the way SimPy's documentation writes queues: a `simpy.Resource` with
`capacity = c` is the pool of servers, a source process starts one process per customer, and each
customer requests the resource (`with server.request() as req: yield req`), holds it for an
exponential service time (`yield env.timeout(...)`) and leaves.

The model is the one every side of benches/peers/run.sh simulates: Poisson arrivals of rate
lambda, exponential service of rate mu, c servers, one FIFO queue, an empty start, `duration`
simulated seconds. Warm-up is handled as scalesim handles it: the mean wait in queue is taken over
the customers whose service ends in [warmup, duration].

Prints one JSON line: the tool, the nominal number of customers (lambda x duration), how many were
served after the warm-up, their mean wait (s), and the Erlang C mean wait for comparison.
"""

import argparse
import json
import random

import simpy

from erlang import erlang_c_wait


def source(env, rng, server, lam, mu, warmup, stats):
    """Poisson arrivals: one customer process per arrival."""
    while True:
        yield env.timeout(rng.expovariate(lam))
        env.process(customer(env, rng, server, mu, warmup, stats))


def customer(env, rng, server, mu, warmup, stats):
    """Queue for a server (FIFO), hold it for an exponential service time, leave."""
    arrived = env.now
    with server.request() as req:
        yield req
        wait = env.now - arrived
        yield env.timeout(rng.expovariate(mu))
    if env.now >= warmup:
        stats[0] += 1
        stats[1] += wait


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--servers", type=int, default=4)
    p.add_argument("--lam", type=float, default=360.0, help="arrivals per second")
    p.add_argument("--mu", type=float, default=100.0, help="services per second per server")
    p.add_argument("--duration", type=float, default=2778.0, help="simulated seconds")
    p.add_argument("--warmup", type=float, default=60.0, help="simulated seconds")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()

    rng = random.Random(a.seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=a.servers)
    stats = [0, 0.0]  # customers served after the warm-up, sum of their waits (s)
    env.process(source(env, rng, server, a.lam, a.mu, a.warmup, stats))
    env.run(until=a.duration)

    print(json.dumps({
        "tool": "simpy",
        "version": simpy.__version__,
        "customers": round(a.lam * a.duration),
        "served_after_warmup": stats[0],
        "mean_wait_s": stats[1] / stats[0] if stats[0] else None,
        "erlang_c_wait_s": erlang_c_wait(a.servers, a.lam, a.mu),
    }))


if __name__ == "__main__":
    main()
