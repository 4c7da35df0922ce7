"""What the connected cluster holds: GCS facts, actor handles and their methods, the summary."""
