"""API resources: one class per group of endpoints, reached as `client.faces`, `client.events`."""
