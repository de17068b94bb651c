"""Where results go: policy files (and optionally a git repository of them)."""
