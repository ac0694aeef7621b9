"""The lab: a simulated data centre that speaks the real protocols on loopback."""
