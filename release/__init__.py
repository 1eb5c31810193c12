"""Release tooling run at deploy time (never at synth): resolve, smoke-test, promote."""
