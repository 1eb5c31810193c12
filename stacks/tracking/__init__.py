"""The managed MLflow tracking server (issue 15): the server, its role, and its clients' access."""
