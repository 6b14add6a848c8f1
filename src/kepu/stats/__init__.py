"""Pure numerical helpers (numpy/scipy only, no Django) for assessing action-plan targets."""
