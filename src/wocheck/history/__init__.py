"""wocheck.history."""
