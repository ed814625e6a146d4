"""wocheck: work-order photo and record compliance checker (NVK rulebook clauses 42-50)."""

__version__ = "0.1.0"
