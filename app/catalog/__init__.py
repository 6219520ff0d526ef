"""The catalog: categories, brands, tags, the spec library, products and their specs,
prices per member level and who sees them, search, the storefront's listings."""
