"""From a log file's bytes to usage rows: decode the file, resolve each record's principal, extract the resources
it names, and aggregate calls per (principal, call, resource, day, outcome). Pure."""
