"""Wire schemas (msgspec structs) shared by the API, the deployment gate and Slack."""
