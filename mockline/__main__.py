"""``python -m mockline ...``: the same CLI as the ``mockline`` script."""

from mockline.cli import main

main()
