"""Model-based questions (Python functions registered with @python_query)."""
