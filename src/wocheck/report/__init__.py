"""wocheck.report."""
