"""Herald: schedule, publish, answer and measure social-media work."""
