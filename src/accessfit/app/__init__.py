"""The composition root: settings, logging, AWS clients, the CLI and the daemon. Only this package reads
configuration or turns errors into exit codes."""
