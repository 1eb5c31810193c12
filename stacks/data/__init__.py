"""The stateful data stores (wired by :mod:`stacks.data_stack`): ``secure_bucket``."""
