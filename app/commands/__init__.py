"""What runs from the shell: serve, generate, verify and openapi."""
