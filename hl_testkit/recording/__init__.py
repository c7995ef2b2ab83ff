"""One test's recording: target, vcrpy activation, matching, misses, the network guard
and the run's summary."""
