"""Tooling run outside synth, from a developer's machine or the builds: resolve, smoke-test, promote,
and the use-case factory (:mod:`release.use_case`, which edits cdk.json through the typed config)."""
