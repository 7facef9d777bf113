"""Operating the service: Prometheus metrics, request ids and one-JSON-object-per-line logs."""
