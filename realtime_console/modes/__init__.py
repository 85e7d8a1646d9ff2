"""The loops that tie the layers together: ``chat`` (and later ``talk``)."""
