"""wocheck.penalty."""
