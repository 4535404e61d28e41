"""Per-sender conversations: sessions, their stores, and the state machines that drive dialogs."""
