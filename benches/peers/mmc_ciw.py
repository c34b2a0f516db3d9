"""M/M/c in Ciw, written the way Ciw's documentation writes it: a one-node network from
`ciw.create_network` with `ciw.dists.Exponential` arrival and service distributions and
`number_of_servers = [c]`, `ciw.seed`, `Simulation.simulate_until_max_time`, and the mean wait
read from `get_all_records()`.

The model is the one every side of benches/peers/run.sh simulates: Poisson arrivals of rate
lambda, exponential service of rate mu, c servers, one FIFO queue, an empty start, `duration`
simulated seconds. Warm-up is handled as scalesim handles it: the mean wait in queue is taken over
the customers whose service ends in [warmup, duration].

Prints one JSON line: the tool, the nominal number of customers (lambda x duration), how many were
served after the warm-up, their mean wait (s), and the Erlang C mean wait for comparison.
"""

import argparse
import json

import ciw

from erlang import erlang_c_wait


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--servers", type=int, default=4)
    p.add_argument("--lam", type=float, default=360.0, help="arrivals per second")
    p.add_argument("--mu", type=float, default=100.0, help="services per second per server")
    p.add_argument("--duration", type=float, default=2778.0, help="simulated seconds")
    p.add_argument("--warmup", type=float, default=60.0, help="simulated seconds")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()

    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=a.lam)],
        service_distributions=[ciw.dists.Exponential(rate=a.mu)],
        number_of_servers=[a.servers],
    )
    ciw.seed(a.seed)
    q = ciw.Simulation(network)
    q.simulate_until_max_time(a.duration)
    waits = [r.waiting_time for r in q.get_all_records() if r.exit_date >= a.warmup]

    print(json.dumps({
        "tool": "ciw",
        "version": ciw.__version__,
        "customers": round(a.lam * a.duration),
        "served_after_warmup": len(waits),
        "mean_wait_s": sum(waits) / len(waits) if waits else None,
        "erlang_c_wait_s": erlang_c_wait(a.servers, a.lam, a.mu),
    }))


if __name__ == "__main__":
    main()
