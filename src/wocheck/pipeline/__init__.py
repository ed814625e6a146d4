"""wocheck.pipeline."""
