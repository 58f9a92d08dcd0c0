"""The pieces of bench/run.py: servers, wrk, data for the peer, tokens, reports."""
