"""wocheck.inspectors."""
