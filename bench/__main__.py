"""``python -m bench ...``: see ``bench._cli``."""

from ._cli import main

main()
