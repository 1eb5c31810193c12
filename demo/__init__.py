"""The story `make demo` tells: the whole platform on this machine, in three acts.

Training (synthesize the app, run the pipeline twice so the second version meets a champion),
release (approve, resolve, deploy both stages, smoke-test them) and drift (drifted traffic, the
drift check, the alarm, the retraining it starts). The AWS side is the emulator (`emulator/`);
this package only drives it, with the app's config and the release tools, and prints what
happens. Run it with `python -m demo` (what `make demo` does).
"""
