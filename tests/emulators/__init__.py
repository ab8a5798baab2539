"""Local stand-ins for the store platforms' APIs, served over real HTTP in tests."""
