"""What students hand in: one way to open any submission."""
