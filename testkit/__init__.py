"""Test support shared by the test tiers and the benchmarks: mocks, the program runner, the
provider-host driver and the end-to-end engine. It lives outside ``tests/`` so benchmarks and
tools import it without reaching into the test suite."""
