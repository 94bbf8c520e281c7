"""Custom actions of the Vitawell assistant, one module per concern."""
