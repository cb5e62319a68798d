"""What instructors write: specs, variants, reference solutions, late policies."""
