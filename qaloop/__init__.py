"""qaloop: performance and quality-assurance reporting for children's services."""

__version__ = "0.1.0"
