"""`python -m fupin.cli`."""
from .main import main

main()
