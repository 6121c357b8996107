"""Framework utilities: configuration helpers, connections, logging, the embedded server, CLI."""
