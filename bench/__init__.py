"""Benchmarks for issue 3 (`make bench`): the slot engine, availability and booking over HTTP on the local
stack, and DynamoDB requests per call. Results are printed as one table and recorded in docs/benchmarks.md."""
