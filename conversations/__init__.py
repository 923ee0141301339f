"""Multi-step dialogs: the engine and one module per flow."""
