"""Serving: SavedModel export, inference on files, and the local REST
server with its upload page."""
