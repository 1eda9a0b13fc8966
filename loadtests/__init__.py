"""Sale-day load tests (locust)."""
