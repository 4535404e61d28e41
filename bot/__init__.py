"""The transport: the Quart app, security, SMS shaping and sending, the command line."""
