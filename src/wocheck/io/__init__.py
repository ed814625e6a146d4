"""wocheck.io."""
