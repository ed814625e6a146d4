"""wocheck.metrics."""
