"""Content: articles and pages, stores (for navigation), the home page's blocks."""
