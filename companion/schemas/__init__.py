"""marshmallow schemas: what goes in and out over HTTP."""
