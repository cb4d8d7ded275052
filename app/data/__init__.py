"""Where conversations come from: fixture files and the seeded generator."""
