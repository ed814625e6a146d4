"""wocheck.engines."""
