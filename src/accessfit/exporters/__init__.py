"""Where results go: policy files, their git history, and Prometheus metrics."""
