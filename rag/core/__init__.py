"""Layer 1: the types, settings and errors every other layer builds on. It imports nothing of newsrag's."""
